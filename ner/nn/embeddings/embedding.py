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

    @torch.no_grad()
    def initialise(self, ids: list[int], vectors: torch.Tensor) -> None:
        """Start the rows of token `ids` from `vectors` (one row each), e.g. pretrained word vectors."""
        if vectors.shape[1] != self.embedding.embedding_dim:
            raise ValueError(
                f"vectors of size {vectors.shape[1]} for a {self.embedding.embedding_dim}-d embedding"
            )
        self.embedding.weight[torch.as_tensor(ids, dtype=torch.long)] = vectors.to(self.embedding.weight)

    @torch.no_grad()
    def extend(self, vectors: torch.Tensor) -> None:
        """Append one row for each of `vectors` (words added after training, e.g. from pretrained vectors)."""
        weight = self.embedding.weight
        rows = torch.cat([weight, vectors.to(weight)])
        self.embedding = nn.Embedding.from_pretrained(
            rows, freeze=True, padding_idx=self.embedding.padding_idx
        )

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(batch, length) ids -> (batch, length, embedding_dim) vectors."""
        return self.embedding(input_ids)
