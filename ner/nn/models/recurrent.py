"""Recurrent encoders from PyTorch's kernels: LSTM, GRU or Elman RNN, one or both directions."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ner.nn.module import Module


class PackedRecurrent(Module):
    """A multi-layer recurrent encoder over packed sequences (padding never enters either direction),
    returning each token's states (both directions concatenated) after dropout."""

    cell: type[nn.RNNBase] = nn.RNN

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        nonlinearity: str = "tanh",
    ):
        super().__init__()
        self.record_config(locals())
        extra = {"nonlinearity": nonlinearity} if self.cell is nn.RNN else {}
        self.encoder = self.cell(
            embedding_dim,
            hidden_dim,
            num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        self.dropout = nn.Dropout(dropout)
        self.output_size = hidden_dim * (2 if bidirectional else 1)

    @classmethod
    def from_settings(cls, input_dim: int, settings: Mapping) -> PackedRecurrent:
        """The encoder of a tagger's `model` settings."""
        return cls(
            input_dim,
            settings["hidden_dim"],
            settings["num_layers"],
            settings["bidirectional"],
            settings["dropout"],
            settings["nonlinearity"],
        )

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_size) states; zeros at padding."""
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
        return self.dropout(hidden)


class LSTM(PackedRecurrent):
    """Long short-term memory cells."""

    cell = nn.LSTM


class GRU(PackedRecurrent):
    """Gated recurrent units."""

    cell = nn.GRU


class ElmanRNN(PackedRecurrent):
    """Elman cells with a tanh or ReLU nonlinearity (PyTorch's kernel; dropout and both directions allowed)."""

    cell = nn.RNN
