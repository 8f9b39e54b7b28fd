"""Token embedding layer."""

import torch
from torch import nn

from ner.nn.module import Module


class TokenEmbedding(Module):
    """Looks up a learned vector for each token id; the padding row stays zero."""

    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int | None = None):
        super().__init__()
        self.record_config(locals())
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.apply(self.init_weights)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(batch, length) ids -> (batch, length, embedding_dim) vectors."""
        return self.embedding(input_ids)
