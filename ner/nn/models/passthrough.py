"""The encoder that adds nothing: the head reads the token vectors as they are (for a transformer's
already contextual vectors)."""

from __future__ import annotations

import torch

from ner.nn.module import Module
from ner.nn.parts import PassThroughSettings


class PassThrough(Module):
    """(batch, length, input_dim) token vectors, returned as the hidden states."""

    def __init__(self, input_dim: int):
        super().__init__()
        self.record_config(locals())
        self.output_size = input_dim

    @classmethod
    def from_settings(cls, settings: PassThroughSettings, input_dim: int) -> PassThrough:
        """The pass-through encoder (it has no settings)."""
        return cls(input_dim)

    def forward(self, vectors: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        return vectors
