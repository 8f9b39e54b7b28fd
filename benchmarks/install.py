"""What an install of `ner` with some extras holds: the installed distributions its requirements reach,
and their size on disk, read from this environment's package metadata.

    python -m benchmarks.install [EXTRAS ...]     # default: runtime (the torch-free install) and all
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from rich.markup import escape
from rich.table import Table

from ner.utils.console import console

ALL_EXTRAS = ["train", "runtime", "transformer", "distributed"]


def canonical(name: str) -> str:
    """A distribution name as package indexes compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(extras: list[str]) -> dict[str, object]:
    """The installed distributions that `ner[extras]` requires, directly or not, by canonical name."""
    found: dict[str, object] = {}
    pending = [("ner", frozenset(extras))]
    while pending:
        name, wanted = pending.pop()
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        key = canonical(dist.metadata["Name"])
        seen = key in found
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            environments = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if marker is None or any(marker.evaluate(env) for env in environments):
                if not seen or wanted:
                    pending.append((requirement.name, frozenset(requirement.extras)))
    return found


def files_of(dist: object) -> list[Path]:
    """The files a distribution installed (absolute paths)."""
    return [Path(dist.locate_file(f)) for f in dist.files or []]


def size_mb(distributions: dict[str, object]) -> float:
    """The size on disk of the distributions' files, in MB."""
    return sum(p.stat().st_size for d in distributions.values() for p in files_of(d) if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "extras", nargs="*", help="extras to measure, comma-separated sets (default: runtime, all)"
    )
    args = parser.parse_args()
    sets = args.extras or ["runtime", ",".join(ALL_EXTRAS)]
    console.print(size_table({f"ner[{extras}]": [e for e in extras.split(",") if e] for extras in sets}))


def size_table(installs: dict[str, list[str]]) -> Table:
    """Distributions and MB of each install (a label and its extras), and whether it holds torch."""
    table = Table(title="install size of ner with extras (this environment's packages)")
    for column in ("install", "distributions", "MB", "torch"):
        table.add_column(column)
    for label, extras in installs.items():
        found = closure(extras)
        table.add_row(
            escape(label), str(len(found)), f"{size_mb(found):,.0f}", "yes" if "torch" in found else "no"
        )
    return table


if __name__ == "__main__":
    main()
