"""What a Pipeline tags with, whichever engine runs the network: a trained run opened with torch, or an
exported folder run by ONNX Runtime. Both keep this contract, and share how tags are finished."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ner.data_processing.vocabulary import Vocabulary
from ner.nn.tags.chain import Chain
from ner.nn.tags.document_consistency import harmonize_documents
from ner.utils.config import TrainConfig


@dataclass
class Tagged:
    """Each sentence's tags, and (when scores were asked for) the tag chain they were decoded from."""

    tags: list[list[str]]
    chains: list[Chain] | None = None


class TokenPredictor(Protocol):
    """Tags token lists: the best tags, and with `scores` each sentence's tag chain."""

    precision: str
    document_consistency: bool
    batch_size: int

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        documents: Sequence[int | None] | None = None,
        scores: bool = False,
    ) -> Tagged: ...

    def tag(
        self, sentences: Sequence[Sequence[str]], documents: Sequence[int | None] | None = None
    ) -> list[list[str]]: ...


class Model(Protocol):
    """A trained model opened for tagging: its config, vocabulary, predictor and provenance."""

    config: TrainConfig
    predictor: TokenPredictor

    @property
    def name(self) -> str: ...

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


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices in batches of similar length (less padding); callers put results back in order."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def finish_tags(
    labels: Sequence[str],
    ids: list[list[int]],
    sentences: Sequence[Sequence[str]],
    documents: Sequence[int | None] | None,
    document_consistency: bool,
) -> list[list[str]]:
    """Label ids as labels, made consistent within `documents` (each sentence's document) if asked."""
    tags = [[labels[i] for i in row] for row in ids]
    if document_consistency and documents is not None:
        tags = harmonize_documents(sentences, tags, documents)
    return tags
