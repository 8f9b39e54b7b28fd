"""`NAME=VALUE` items of command-line options (`--min-score`, `--source-weights`, `--map`,
`--label-map`, `ner submit --model`): one parser, each option checking its own values."""

from __future__ import annotations

from collections.abc import Iterable

from ner.utils.errors import NerError


def parse_pairs(items: Iterable[str], option: str, form: str) -> dict[str, str]:
    """`NAME=VALUE` items as a mapping of names to values, refusing in one line (naming `option` and the
    `form` it takes) an item without a name or a value, or a name given two values."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not name or not value or any(c.isspace() for c in name + value):
            raise NerError(f"{option} takes {form}, got {item.strip()!r}")
        if pairs.get(name, value) != value:
            raise NerError(f"{option} names {name} twice: {name}={pairs[name]} and {name}={value}")
        pairs[name] = value
    return pairs
