"""The entities of a tagged sentence with the probability of each span from its tag chain, and the
thresholds that drop entities scored below them (their tokens become O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ner.nn.tags.chain import Chain
from ner.nn.tags.schemes import BIO
from ner.utils.spans import tag_spans
from ner.utils.thresholds import MinScore, threshold_for


class ScoredSpan(NamedTuple):
    """An entity of a sentence: its type, first and last token (inclusive) and the probability of
    exactly this span with this type."""

    label: str
    first: int
    last: int
    score: float


def scored_spans(tags: Sequence[str], chain: Chain, scheme: BIO) -> list[ScoredSpan]:
    """Each entity of a BIO tag sequence with its span probability under `chain` (in `scheme`'s tags)."""
    return [
        ScoredSpan(
            label, first, last, chain.span_probability(first, *scheme.span_tags(label, last - first + 1))
        )
        for label, first, last in tag_spans(tags)
    ]


def keep_confident(
    tags: Sequence[str], spans: Sequence[ScoredSpan], min_score: MinScore | None
) -> tuple[list[str], list[ScoredSpan]]:
    """The tags and spans without the entities scored below their type's threshold (tagged O)."""
    tags, kept = list(tags), []
    for span in spans:
        if span.score >= threshold_for(min_score, span.label):
            kept.append(span)
        else:
            tags[span.first : span.last + 1] = ["O"] * (span.last - span.first + 1)
    return tags, kept
