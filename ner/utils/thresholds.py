"""Score thresholds below which entities are dropped: one for every type (`0.5`), or one per named type
(`PER=0.6,ORG=0.4`; types not named are kept whatever their score)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ner.utils.errors import NerError
from ner.utils.pairs import parse_pairs


class ThresholdError(NerError, ValueError):
    """A threshold that is malformed, out of range or names an unknown type."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        return type(self), (self.where, self.problem)


MinScore = float | dict[str, float]


def check_value(where: str, value: object) -> float:
    """A threshold as a float in [0, 1), or ThresholdError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ThresholdError(where, f"a threshold is a number in [0, 1), got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ThresholdError(where, f"a threshold lies in [0, 1), got {value!r}")
    return float(value)


def check_min_score(value: object, types: Iterable[str] | None = None, where: str = "min_score") -> MinScore:
    """`value` (a number, or a mapping of entity types to numbers) checked: every number in [0, 1) and,
    if `types` is given, every named type one of them."""
    if isinstance(value, dict):
        known = sorted(types) if types is not None else None
        checked = {}
        for name, threshold in value.items():
            if not isinstance(name, str) or not name:
                raise ThresholdError(where, f"an entity type is a non-empty name, got {name!r}")
            if known is not None and name not in known:
                raise ThresholdError(where, f"unknown entity type {name!r}; the model's types are {known}")
            checked[name] = check_value(f"{where}.{name}", threshold)
        return checked
    return check_value(where, value)


def parse_min_score(text: str, where: str = "--min-score") -> MinScore:
    """`0.5` as 0.5, `PER=0.6,ORG=0.4` as {"PER": 0.6, "ORG": 0.4}."""
    if "=" not in text:
        return check_value(where, _number(where, text.strip()))
    pairs = parse_pairs(text.split(","), where, "a number or TYPE=NUMBER,...")
    return {name: check_value(f"{where} {name}", _number(where, number)) for name, number in pairs.items()}


def _number(where: str, text: str) -> float:
    """`text` as a float, or ThresholdError naming `where`."""
    try:
        return float(text)
    except ValueError:
        raise ThresholdError(where, f"expected a number or TYPE=NUMBER,...; got {text!r}") from None


def threshold_for(min_score: MinScore | None, label: str) -> float:
    """The lowest score an entity of type `label` is kept at (0 where nothing is set)."""
    if min_score is None:
        return 0.0
    if isinstance(min_score, dict):
        return min_score.get(label, 0.0)
    return min_score
