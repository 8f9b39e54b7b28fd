"""How far a model's entity scores can be trusted: expected calibration error, Brier score, reliability
bins, precision and recall per type at score thresholds, and thresholds suggested from them. An entity
is right when a gold entity has exactly its span and type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

BINS = 10
THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)


class Scored(NamedTuple):
    """A predicted entity's type, score and whether it is right."""

    label: str
    score: float
    correct: bool


def calibration(entities: Sequence[Scored], bins: int = BINS) -> dict:
    """Expected calibration error over `bins` equal-width score bins (each bin's |accuracy - mean score|
    weighted by its share of the entities), the Brier score, the share right overall and among entities
    scored 0.9 or more, and each bin's count, mean score and accuracy."""
    scores = np.array([e.score for e in entities], dtype=float)
    correct = np.array([e.correct for e in entities], dtype=float)
    if scores.size == 0:
        return {
            "entities": 0,
            "accuracy": None,
            "ece": 0.0,
            "brier": 0.0,
            "accuracy_at_0.9": None,
            "share_at_0.9": 0.0,
            "bins": [],
        }
    index = np.minimum((scores * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        mean_score = float(scores[members].mean()) if count else None
        accuracy = float(correct[members].mean()) if count else None
        if count:
            ece += count / scores.size * abs(accuracy - mean_score)
        table.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "count": count,
                "mean_score": mean_score,
                "accuracy": accuracy,
            }
        )
    confident = scores >= 0.9
    return {
        "entities": int(scores.size),
        "accuracy": float(correct.mean()),
        "ece": float(ece),
        "brier": float(np.mean((scores - correct) ** 2)),
        "accuracy_at_0.9": float(correct[confident].mean()) if confident.any() else None,
        "share_at_0.9": float(confident.mean()),
        "bins": table,
    }


def at_thresholds(
    entities: Sequence[Scored], gold_counts: Counter, thresholds: Sequence[float] = THRESHOLDS
) -> dict[str, list[dict]]:
    """Per entity type, precision and recall of the entities kept at each score threshold."""
    table: dict[str, list[dict]] = {}
    for label in sorted(set(gold_counts) | {e.label for e in entities}):
        mine = [e for e in entities if e.label == label]
        rows = []
        for threshold in thresholds:
            kept = [e for e in mine if e.score >= threshold]
            right = sum(e.correct for e in kept)
            rows.append(
                {
                    "threshold": threshold,
                    "kept": len(kept),
                    "precision": right / len(kept) if kept else 0.0,
                    "recall": right / gold_counts[label] if gold_counts[label] else 0.0,
                }
            )
        table[label] = rows
    return table


def suggest_thresholds(
    entities: Sequence[Scored], gold_counts: Counter, target_precision: float | None = None
) -> dict[str, float | None]:
    """Per entity type, the threshold that maximises F1 (0 where keeping every entity does; None where
    no threshold gives any F1) or, with `target_precision`, the lowest whose kept entities reach that
    precision (None where none does). Candidates are the entities' own scores, rounded down to 0.001."""
    suggested: dict[str, float | None] = {}
    for label in sorted(set(gold_counts) | {e.label for e in entities}):
        ranked = sorted((e for e in entities if e.label == label), key=lambda e: -e.score)
        gold, right = gold_counts[label], 0
        best, best_f1 = None, 0.0
        # Walking down the scores, the i-th entity's score keeps the i best (ties kept together).
        for kept, entity in enumerate(ranked, start=1):
            right += entity.correct
            if kept < len(ranked) and ranked[kept].score == entity.score:
                continue
            precision, recall = right / kept, right / gold if gold else 0.0
            threshold = (
                0.0 if kept == len(ranked) else min(float(np.floor(entity.score * 1000) / 1000), 0.999)
            )
            if target_precision is not None:
                best = threshold if precision >= target_precision else best
                continue
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            if f1 > best_f1:
                best, best_f1 = threshold, f1
        suggested[label] = best
    return suggested
