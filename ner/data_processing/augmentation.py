"""Text in other letter casings: training data shown lower-cased and upper-cased (tags unchanged), and
the same recasing for scoring a model on text as written, lower-cased or upper-cased."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CASINGS = ("as-is", "lower", "upper")


def recase(text: str, casing: str) -> str:
    """`text` in `casing`, character by character: a character whose other case is not one character
    (German ß upper-cased is SS) stays as it is, so offsets into the text still hold."""
    if casing == "as-is":
        return text
    if casing not in ("lower", "upper"):
        raise ValueError(f"casing must be one of {CASINGS}, got {casing!r}")
    change = str.lower if casing == "lower" else str.upper
    changed = change(text)
    if len(changed) == len(text):
        return changed
    return "".join(c if len(change(c)) != 1 else change(c) for c in text)


def recase_tokens(tokens: Sequence[str], casing: str) -> list[str]:
    """Each token in `casing`."""
    return [recase(token, casing) for token in tokens]


class CaseAugmentation:
    """Which training sentences an epoch shows lower-cased (a `lower` share) and upper-cased (an `upper`
    share), drawn anew each epoch from the seed and the epoch alone, so a resumed or data-parallel run
    recases the same sentences."""

    def __init__(self, lower: float, upper: float, seed: int):
        if lower < 0 or upper < 0 or lower + upper > 1:
            raise ValueError(
                f"lower and upper shares must be non-negative and sum to at most 1, got {lower}, {upper}"
            )
        self.lower = lower
        self.upper = upper
        self.seed = seed

    @property
    def active(self) -> bool:
        """Whether any sentence is recased."""
        return self.lower > 0 or self.upper > 0

    def casings(self, count: int, epoch: int) -> list[str]:
        """The casing of each of `count` training sentences in `epoch`."""
        draws = np.random.default_rng([self.seed, epoch]).random(count)
        return [
            "lower" if draw < self.lower else "upper" if draw < self.lower + self.upper else "as-is"
            for draw in draws
        ]


class RecasedExamples(Sequence):
    """Examples with their text column in each one's casing (other columns, the tags among them, as
    they are)."""

    def __init__(self, examples: Sequence[dict], casings: Sequence[str], text_colname: str):
        if len(examples) != len(casings):
            raise ValueError(f"{len(examples)} examples but {len(casings)} casings")
        self.examples = examples
        self.casings = casings
        self.text_colname = text_colname

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        example, casing = self.examples[index], self.casings[index]
        if casing == "as-is":
            return example
        return {**example, self.text_colname: recase_tokens(example[self.text_colname], casing)}
