"""The typed batch of tensors a tagger reads: token ids and padding mask, and the inputs some parts need."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace

import numpy as np
import torch


@dataclass(frozen=True)
class Batch(Mapping):
    """A padded batch: `input_ids` and `padding_mask` (batch, length; the mask 1 at padding), `labels`
        (-100 at padding) when the examples carry tags, and for the parts that read them `char_ids`
        (batch, length, bytes), `casing_ids` (batch, length), `piece_ids` (segments, pieces) with
        `piece_word` (each piece's flat position in the token grid), and in distillation `soft_labels`
    (batch, length, labels: a teacher's label probabilities, zero where it gave none). It reads like the notebook's dict of
        tensors: `batch["input_ids"]`, and only the tensors present are its keys."""

    input_ids: torch.Tensor
    padding_mask: torch.Tensor
    labels: torch.Tensor | None = None
    char_words: torch.Tensor | None = None
    char_index: torch.Tensor | None = None
    casing_ids: torch.Tensor | None = None
    piece_ids: torch.Tensor | None = None
    piece_word: torch.Tensor | None = None
    soft_labels: torch.Tensor | None = None

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Batch:
        """The batch of a collator's arrays, sharing their memory."""
        return cls(**{name: torch.from_numpy(array) for name, array in arrays.items()})

    @property
    def mask(self) -> torch.Tensor:
        """True at real tokens (batch, length)."""
        return self.padding_mask == 0

    def to(self, device: str | torch.device) -> Batch:
        """The same batch on `device`."""
        return replace(self, **{k: v.to(device) for k, v in self.items()})

    def without_labels(self) -> Batch:
        """The batch as a model reads it, without the gold tags or a teacher's."""
        return replace(self, labels=None, soft_labels=None)

    def __getitem__(self, key: str) -> torch.Tensor:
        value = getattr(self, key, None) if key in NAMES else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name in NAMES if getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


NAMES = tuple(f.name for f in fields(Batch))
