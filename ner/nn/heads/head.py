"""What every head shares: a projection to the scores of its tag scheme's tags, read back as BIO ids."""

from __future__ import annotations

import torch
from torch import nn

from ner.nn.module import Module
from ner.nn.parts import HeadSettings
from ner.nn.tags.schemes import TAG_SCHEMES


class Head(Module):
    """Projects hidden states to one score per tag of `tag_scheme`, for the BIO `labels` of the data."""

    def __init__(self, input_dim: int, labels: list[str], tag_scheme: str = "bio"):
        super().__init__()
        self.record_config(locals())
        self.scheme = TAG_SCHEMES[tag_scheme](list(labels))
        self.projection = nn.Linear(input_dim, len(self.scheme.labels))
        self.register_buffer("to_bio", torch.tensor(self.scheme.to_bio), persistent=False)

    @classmethod
    def from_settings(cls, settings: HeadSettings, input_dim: int, labels: list[str]) -> Head:
        """The head of a tagger's `model.head` settings, for the data's BIO `labels`."""
        return cls(input_dim, labels, settings.tag_scheme)

    def tag_axes(self) -> dict[str, tuple[int, ...]]:
        """The axes of this head's parameters that run over its tags, by parameter name."""
        return {"projection.weight": (0,), "projection.bias": (0,)}

    def marginals(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, length, BIO labels) each token's label probabilities under this head, differentiable
        (what a student is distilled on)."""
        tags = self.tag_marginals(scores, mask)
        return tags.new_zeros(*tags.shape[:-1], len(self.scheme.bio_labels)).index_add(-1, self.to_bio, tags)

    def tag_marginals(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, length, scheme tags) each token's tag probabilities: tokens tagged independently."""
        return scores.float().softmax(dim=-1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(batch, length, input_dim) hidden states -> (batch, length, scheme tags) scores."""
        return self.projection(hidden)
