"""Recurrent encoders from PyTorch's kernels: LSTM, GRU or Elman RNN, one or both directions."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ner.nn.module import Module
from ner.nn.parts import ElmanSettings, RecurrentSettings


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
    def from_settings(cls, settings: RecurrentSettings, input_dim: int) -> PackedRecurrent:
        """The encoder of a tagger's `model.encoder` settings."""
        extra = {"nonlinearity": settings.nonlinearity} if isinstance(settings, ElmanSettings) else {}
        return cls(
            input_dim,
            settings.hidden_dim,
            settings.num_layers,
            settings.bidirectional,
            settings.dropout,
            **extra,
        )

    def export_form(self) -> nn.Module:
        """The same layers run on right-padded sentences without packing."""
        return MaskedRecurrent(self)

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


class MaskedRecurrent(nn.Module):
    """A recurrent encoder run on right-padded sentences without packing: each layer's forward cell reads
    the sentence as padded (padding comes after every real token), its backward cell reads each sentence
    reversed within its own length, its states put back in place; padding positions are zero."""

    def __init__(self, part: PackedRecurrent):
        super().__init__()
        source = part.encoder
        self.layers = nn.ModuleList()
        for layer in range(source.num_layers):
            directions = nn.ModuleList()
            for suffix in ("", "_reverse")[: 2 if source.bidirectional else 1]:
                cell = type(source)(
                    source.input_size
                    if layer == 0
                    else source.hidden_size * (2 if source.bidirectional else 1),
                    source.hidden_size,
                    batch_first=True,
                    **({"nonlinearity": source.nonlinearity} if isinstance(source, nn.RNN) else {}),
                )
                names = [
                    f"weight_ih_l{layer}",
                    f"weight_hh_l{layer}",
                    f"bias_ih_l{layer}",
                    f"bias_hh_l{layer}",
                ]
                cell.load_state_dict(
                    {name.replace(f"l{layer}", "l0"): getattr(source, name + suffix) for name in names}
                )
                directions.append(cell)
            self.layers.append(directions)

    def forward(self, vectors: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        real = (padding_mask == 0).unsqueeze(-1).to(vectors.dtype)
        lengths = (padding_mask == 0).sum(dim=1, keepdim=True)
        positions = torch.arange(vectors.shape[1], device=vectors.device).unsqueeze(0)
        reverse = torch.where(positions < lengths, lengths - 1 - positions, positions).unsqueeze(-1)
        for directions in self.layers:
            states = [directions[0](vectors)[0]]
            if len(directions) == 2:
                flipped = vectors.gather(1, reverse.expand(-1, -1, vectors.shape[-1]))
                backward = directions[1](flipped)[0]
                states.append(backward.gather(1, reverse.expand(-1, -1, backward.shape[-1])))
            vectors = torch.cat(states, dim=-1) * real
        return vectors
