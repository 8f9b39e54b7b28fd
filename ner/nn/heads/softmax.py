"""Softmax head: a linear projection to tag scores, per-token cross-entropy, arg-max decoding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ner.data_processing.constants import LABEL_IGNORE_IDX
from ner.nn.heads.head import Head
from ner.nn.heads.tag_encoding import encode_labels


class SoftmaxHead(Head):
    """Scores each token's tags independently; class weights (BIO only) scale each gold tag's loss."""

    def loss(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        class_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean cross-entropy over labelled real tokens (weighted by `class_weights` when given)."""
        return token_cross_entropy(scores, encode_labels(self.scheme, labels), mask, class_weights)

    @torch.no_grad()
    def decode(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The arg-max tag of each token, as a BIO id."""
        return self.to_bio[scores.argmax(dim=-1)]

    def potentials(self, scores: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tag chain the scores define: each token's log-probabilities, no transition scores."""
        return independent_tokens(scores.float().log_softmax(dim=-1))


def token_cross_entropy(
    scores: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, class_weights: torch.Tensor | None
) -> torch.Tensor:
    """Mean cross-entropy of (batch, length, tags) scores against target ids over the real tokens
    whose target is not LABEL_IGNORE_IDX, each weighted by its target's class weight if given."""
    weight = None if class_weights is None else class_weights.to(scores.device, torch.float)
    return F.cross_entropy(
        scores.reshape(-1, scores.shape[-1]),
        targets.masked_fill(~mask, LABEL_IGNORE_IDX).reshape(-1),
        weight=weight,
        ignore_index=LABEL_IGNORE_IDX,
    )


def independent_tokens(log_probs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Emissions, transitions, start and end of a chain whose tokens are tagged independently."""
    tags = log_probs.shape[-1]
    zeros = log_probs.new_zeros(tags)
    return log_probs, log_probs.new_zeros(tags, tags), zeros, zeros
