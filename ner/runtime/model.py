"""What a Pipeline tags with, whichever engine runs the network: a trained run opened with torch, or an
exported folder run by ONNX Runtime. Both keep this contract, and share how tags are finished."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ner.data_processing.vocabulary import Vocabulary
from ner.nn.tags.chain import Chain
from ner.nn.tags.document_consistency import harmonize_documents
from ner.nn.tags.schemes import TAG_SCHEMES
from ner.nn.tags.scoring import ScoredSpan, keep_confident, scored_spans
from ner.runtime.run_config import TrainConfig
from ner.utils.spans import listed_types
from ner.utils.thresholds import MinScore, check_min_score

# Called with a batch and its emissions (a torch Batch and tensor: this module does not import torch).
BatchHook = Callable[[object, object], None]


@dataclass
class Tagged:
    """Each sentence's tags and (when scores were asked for) the tag chain they were decoded from and
    its entities with their probabilities."""

    tags: list[list[str]]
    chains: list[Chain] | None = None
    spans: list[list[ScoredSpan]] | None = None


BATCH_TOKENS = 3072


class TokenPredictor(abc.ABC):
    """Tags token lists in length-sorted batches of at most `batch_size` sentences and `batch_tokens`
    padded positions (a batch's memory bounded whatever its sentences' length, and long sentences not
    padding short ones): each batch's label ids (and, with `scores`, tag chains in `tag_scheme`'s tags,
    their scores divided by the calibration's `temperature`) from `tag_batch`, whatever runs the
    network; then labels, made consistent within documents if `document_consistency`; then, with
    `min_score`, entities scored below their threshold dropped."""

    batch_tokens = BATCH_TOKENS

    def __init__(
        self,
        labels: Sequence[str],
        precision: str,
        document_consistency: bool,
        batch_size: int,
        tag_scheme: str = "bio",
        temperature: float = 1.0,
        min_score: MinScore | None = None,
    ):
        self.labels = list(labels)
        self.precision = precision
        self.document_consistency = document_consistency
        self.batch_size = batch_size
        self.scheme = TAG_SCHEMES[tag_scheme](self.labels)
        if not temperature > 0:
            raise ValueError(f"a calibration temperature is above 0, got {temperature}")
        self.temperature = temperature
        self.min_score = self.thresholds(min_score)

    def thresholds(self, min_score: MinScore | None, where: str = "min_score") -> MinScore | None:
        """`min_score` checked against this model's entity types."""
        if min_score is None:
            return None
        return check_min_score(min_score, listed_types(dict(enumerate(self.labels))), where)

    @abc.abstractmethod
    def tag_batch(
        self,
        sentences: list[Sequence[str]],
        scores: bool,
        labels: list[Sequence[str]] | None = None,
        on_batch: BatchHook | None = None,
    ) -> tuple[list[list[int]], list[Chain] | None]:
        """Each sentence's BIO label ids, and its tag chain if `scores`; with each sentence's gold
        `labels`, `on_batch` is called with the batch and its emissions (a validation's loss)."""

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        documents: Sequence[int | None] | None = None,
        scores: bool = False,
        min_score: MinScore | None = None,
        labels: Sequence[Sequence[str]] | None = None,
        on_batch: BatchHook | None = None,
    ) -> Tagged:
        """The tags of each token list (and, with `scores`, its tag chain and scored entities), in input
        order; entities scored below `min_score` (default: this predictor's) are dropped. With each
        list's gold `labels`, `on_batch` sees every batch and its emissions (training's validation)."""
        if (labels is None) != (on_batch is None):
            raise ValueError("labels and on_batch go together: the hook reads the batch's gold labels")
        thresholds = self.min_score if min_score is None else self.thresholds(min_score)
        need_chains = scores or thresholds is not None
        ids: list[list[int]] = [[] for _ in sentences]
        found: list[Chain | None] = [None] * len(sentences)
        lengths = [len(s) for s in sentences]
        for indices in length_sorted_batches(lengths, self.batch_size, self.batch_tokens):
            gold = None if labels is None else [labels[i] for i in indices]
            rows, batch_chains = self.tag_batch([sentences[i] for i in indices], need_chains, gold, on_batch)
            for i, row, chain in zip(indices, rows, batch_chains or [None] * len(indices), strict=True):
                ids[i], found[i] = row, chain
        tags = self.finish(sentences, ids, documents)
        if not need_chains:
            return Tagged(tags)
        spans = [scored_spans(row, chain, self.scheme) for row, chain in zip(tags, found, strict=True)]
        if thresholds is not None:
            kept = [
                keep_confident(row, row_spans, thresholds) for row, row_spans in zip(tags, spans, strict=True)
            ]
            tags, spans = [row for row, _ in kept], [row_spans for _, row_spans in kept]
        return Tagged(tags, found, spans) if scores else Tagged(tags)

    def tag(
        self,
        sentences: Sequence[Sequence[str]],
        documents: Sequence[int | None] | None = None,
        min_score: MinScore | None = None,
    ) -> list[list[str]]:
        """The tags of each token list, in input order (entities below `min_score` dropped)."""
        return self.predict(sentences, documents, min_score=min_score).tags

    def finish(
        self,
        sentences: Sequence[Sequence[str]],
        ids: list[list[int]],
        documents: Sequence[int | None] | None = None,
    ) -> list[list[str]]:
        """Label ids as labels, made consistent within `documents` (each sentence's document) if this
        predictor does document consistency."""
        tags = [[self.labels[i] for i in row] for row in ids]
        if self.document_consistency and documents is not None:
            tags = harmonize_documents(sentences, tags, documents)
        return tags


class Model(Protocol):
    """A trained model opened for tagging: its config, vocabulary, predictor and provenance."""

    config: TrainConfig
    predictor: TokenPredictor

    @property
    def name(self) -> str: ...

    @property
    def folder(self) -> Path:
        """The folder the model was opened from (where its calibration is kept)."""
        ...

    @property
    def labels(self) -> list[str]: ...

    @property
    def id2label(self) -> dict[int, str]: ...

    @property
    def vocabulary(self) -> Vocabulary: ...

    @property
    def parameters(self) -> int: ...

    def best(self) -> dict | None: ...

    def reopen(self) -> tuple[Callable[..., Model], tuple]:
        """How a worker process opens this same model: an opener and its arguments (the opener also
        takes `threads=`, the worker's share of the cores)."""
        ...


def length_sorted_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = None
) -> list[list[int]]:
    """Indices in batches of similar length (less padding), each at most `batch_size` rows and, with
    `max_tokens`, at most that many padded positions (rows times the longest; a longer sentence is a batch
    of its own); callers put results back in order."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if (
            batches
            and len(batches[-1]) < batch_size
            and (max_tokens is None or (len(batches[-1]) + 1) * max(lengths[i], 1) <= max_tokens)
        ):
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
