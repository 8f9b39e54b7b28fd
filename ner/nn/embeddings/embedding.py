"""Token embedding layer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner.nn.module import Module


class TokenEmbedding(Module):
    """Looks up a learned vector for each token id; the padding row stays zero. Ids past the vocabulary
    read the frozen `extension` rows (pretrained vectors of words added after training), which are
    never saved with the weights."""

    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int | None = None):
        super().__init__()
        self.record_config(locals())
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.register_buffer("extension", torch.empty(0, embedding_dim), persistent=False)
        self.apply(self.init_weights)

    @torch.no_grad()
    def initialise(self, ids: list[int], vectors: torch.Tensor) -> None:
        """Start the rows of token `ids` from `vectors` (one row each), e.g. pretrained word vectors."""
        if vectors.shape[1] != self.embedding.embedding_dim:
            raise ValueError(
                f"vectors of size {vectors.shape[1]} for a {self.embedding.embedding_dim}-d embedding"
            )
        self.embedding.weight[torch.as_tensor(ids, dtype=torch.long)] = vectors.to(self.embedding.weight)

    def extend(self, vectors: torch.Tensor) -> None:
        """Give ids from the vocabulary size on these frozen rows, in order (replacing any earlier ones)."""
        weight = self.embedding.weight
        self.extension = vectors.detach().to(weight.device, weight.dtype)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(batch, length) ids -> (batch, length, embedding_dim) vectors."""
        if self.extension.shape[0] == 0:
            return self.embedding(input_ids)
        size = self.embedding.num_embeddings
        known = input_ids < size
        vectors = self.embedding(torch.where(known, input_ids, 0))
        added = F.embedding((input_ids - size).clamp(min=0), self.extension)
        return torch.where(known.unsqueeze(-1), vectors, added)

    def export_form(self) -> nn.Module:
        """The lookup with its vocabulary extension as one matrix."""
        return WordLookup(self)


class WordLookup(nn.Module):
    """The word embedding with its vocabulary extension as one matrix: id i reads row i."""

    def __init__(self, part: TokenEmbedding):
        super().__init__()
        self.weight = nn.Parameter(torch.cat([part.embedding.weight, part.extension]).detach())

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(input_ids, self.weight)
