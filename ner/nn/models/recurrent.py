"""Recurrent encoders from PyTorch's kernels: LSTM, GRU or Elman RNN, optionally bidirectional."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ner.nn.module import Module

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentTagger(Module):
    """A multi-layer recurrent encoder over packed sequences (padding never enters either direction),
    then dropout and a linear layer to tag logits."""

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        output_dim: int,
        num_layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = True,
        dropout: float = 0.0,
        nonlinearity: str = "tanh",
    ):
        super().__init__()
        self.record_config(locals())
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.encoder = CELLS[cell](
            embedding_dim,
            hidden_dim,
            num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        self.dropout = nn.Dropout(dropout)
        self.hidden_output = nn.Linear(hidden_dim * (2 if bidirectional else 1), output_dim)
        self.apply(self.init_weights)

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_dim) logits; padding gives zeros."""
        batch, length, _ = embeddings.shape
        if padding_mask is None:
            padding_mask = torch.zeros(batch, length, dtype=torch.long, device=embeddings.device)
        real = padding_mask == 0
        right_padded = bool((real == real.cummin(dim=1).values).all())
        order = None if right_padded else torch.argsort((~real).to(torch.int8), dim=1, stable=True)
        if order is not None:
            embeddings = embeddings.gather(1, order.unsqueeze(-1).expand_as(embeddings))
        lengths = real.sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(embeddings, lengths, batch_first=True, enforce_sorted=False)
        hidden, _ = self.encoder(packed)
        hidden, _ = pad_packed_sequence(hidden, batch_first=True, total_length=length)
        if order is not None:
            hidden = torch.zeros_like(hidden).scatter(1, order.unsqueeze(-1).expand_as(hidden), hidden)
        return self.hidden_output(self.dropout(hidden))
