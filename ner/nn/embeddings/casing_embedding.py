"""Casing features: a small learned vector for each token's casing class (lower, title, all-caps, mixed,
numeric, other), so uncased word vectors do not lose what capitals say about names."""

from __future__ import annotations

import torch
from torch import nn

from ner.data_processing.casing_classes import NUM_CASING_CLASSES
from ner.nn.module import Module
from ner.nn.parts import CasingEmbeddingSettings


class CasingEmbedding(Module):
    """(batch, length) casing classes -> (batch, length, casing_dim) vectors; class 0 (padding) is zero."""

    def __init__(self, casing_dim: int = 8):
        super().__init__()
        self.record_config(locals())
        self.embedding = nn.Embedding(NUM_CASING_CLASSES, casing_dim, padding_idx=0)
        self.output_size = casing_dim
        self.apply(self.init_weights)

    @classmethod
    def from_settings(cls, settings: CasingEmbeddingSettings) -> CasingEmbedding:
        """The casing part of a tagger's `model.casing` settings."""
        return cls(settings.dim)

    def forward(self, casing_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(casing_ids)
