"""The entities of a tagged sentence with the probability of each span from its tag chain, and the
thresholds that drop entities scored below them (their tokens become O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

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


def doubt(tag_rows: Sequence[Sequence[str]], chains: Sequence[Chain], scheme: BIO) -> float:
    """How unsure the model is of a text's tags: 1 - the geometric mean, over its tokens, of each token's
    marginal probability of the BIO tag it was given (0 for a text without tokens). Normalised for
    length, so long texts are not doubted for their length alone; one unsure token weighs more than in
    an arithmetic mean, where the many sure O tokens would hide it."""
    to_bio = np.asarray(scheme.to_bio)
    position = {label: i for i, label in enumerate(scheme.bio_labels)}
    log_sum, count = 0.0, 0
    for tags, chain in zip(tag_rows, chains, strict=True):
        given = np.array([position[tag] for tag in tags], dtype=np.int64)
        marginals = chain.tag_marginals()
        chosen = (marginals * (to_bio[None, :] == given[:, None])).sum(axis=1)
        log_sum += float(np.log(np.clip(chosen, 1e-12, 1.0)).sum())
        count += len(tags)
    return 0.0 if count == 0 else float(1.0 - np.exp(log_sum / count))


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
