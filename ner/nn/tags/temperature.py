"""Calibrated span probabilities: the tag chain's scores divided by one temperature, fitted on labelled
sentences so that the entities a model scores p are right about p of the time. Dividing every score by
the same positive number leaves the best path, and so the tags, as they were."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ner.nn.tags.chain import Chain, chains
from ner.nn.tags.schemes import BIO
from ner.nn.tags.scoring import ScoredSpan
from ner.utils.errors import DataFormatError
from ner.utils.files import read_json_file
from ner.utils.io import atomic_write_json

# The temperatures searched: a model is rarely off by more than a factor of 8 either way.
LOWEST, HIGHEST = 0.125, 8.0
SENTENCES_PER_BATCH = 256


@dataclass(frozen=True)
class Calibration:
    """A model's calibration: the `temperature` its tag chain's scores are divided by, what it was fitted
    on, and the calibration metrics of its entities there before (temperature 1) and after."""

    temperature: float = 1.0
    fitted_on: str | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The calibration as JSON-ready data."""
        return {"method": "temperature", **asdict(self)}

    def save(self, path: str | Path) -> Path:
        """Write the calibration to `path` (a model folder's calibration file), whole or not at all."""
        atomic_write_json(path, self.to_dict())
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> Calibration:
        """The calibration in `path`, a model folder's calibration file (temperature 1 where there is none)."""
        path = Path(path)
        if not path.is_file():
            return cls()
        data = read_json_file(path)
        temperature = data.get("temperature") if isinstance(data, dict) else None
        if (
            data.get("method") != "temperature"
            or isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not math.isfinite(temperature)
            or temperature <= 0
        ):
            raise DataFormatError(
                str(path), None, "not a calibration: expected method temperature and a temperature above 0"
            )
        return cls(
            float(temperature), data.get("fitted_on"), data.get("before") or {}, data.get("after") or {}
        )


def rescaled(found: Sequence[Chain], temperature: float) -> list[Chain]:
    """The same sentences' chains with every score divided by `temperature` (batched by length)."""
    order = sorted(range(len(found)), key=lambda i: len(found[i].emissions))
    result: list[Chain | None] = [None] * len(found)
    for start in range(0, len(order), SENTENCES_PER_BATCH):
        group = order[start : start + SENTENCES_PER_BATCH]
        lengths = [len(found[i].emissions) for i in group]
        first = found[group[0]]
        emissions = np.zeros((len(group), max(lengths), first.emissions.shape[1]))
        for row, i in enumerate(group):
            emissions[row, : lengths[row]] = found[i].emissions
        batch = chains(emissions, first.transitions, first.start, first.end, lengths, temperature)
        for i, chain in zip(group, batch, strict=True):
            result[i] = chain
    return result


def span_scores(found: Sequence[Chain], spans: Sequence[Sequence[ScoredSpan]], scheme: BIO) -> np.ndarray:
    """The probability of each span (every sentence's, in order) under its sentence's chain."""
    return np.array(
        [
            chain.span_probability(span.first, *scheme.span_tags(span.label, span.last - span.first + 1))
            for chain, sentence_spans in zip(found, spans, strict=True)
            for span in sentence_spans
        ]
    )


def log_loss(scores: np.ndarray, correct: np.ndarray) -> float:
    """Mean negative log-likelihood of right-or-wrong outcomes under their predicted probabilities."""
    p = np.clip(scores, 1e-9, 1 - 1e-9)
    return float(-np.mean(np.where(correct, np.log(p), np.log1p(-p))))


def fit_temperature(
    found: Sequence[Chain], spans: Sequence[Sequence[ScoredSpan]], correct: Sequence[bool], scheme: BIO
) -> float:
    """The temperature that makes the predicted entities' span probabilities best predict whether each
    is right (least log-loss; searched over log-temperatures between 1/8 and 8); 1 where the outcomes
    are all alike, since then no temperature is better than another within the search."""
    from scipy.optimize import minimize_scalar

    outcomes = np.asarray(correct, dtype=bool)
    if outcomes.all() or not outcomes.any():
        return 1.0

    def loss(log_t: float) -> float:
        return log_loss(span_scores(rescaled(found, math.exp(log_t)), spans, scheme), outcomes)

    grid = np.linspace(math.log(LOWEST), math.log(HIGHEST), 13)
    best = int(np.argmin([loss(x) for x in grid]))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    result = minimize_scalar(loss, bounds=(low, high), method="bounded", options={"xatol": 1e-3})
    return float(math.exp(result.x))
