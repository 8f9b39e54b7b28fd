"""Feed-forward encoder: each token's embedding (with its neighbours' in a window) through ReLU layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner.nn.module import Module
from ner.nn.parts import FFNNSettings


def windowed(embeddings: torch.Tensor, padding_mask: torch.Tensor | None, window: int) -> torch.Tensor:
    """Each position's vector concatenated with those of the `window` positions on each side;
    positions outside the sentence (or at padding) contribute zeros."""
    if window == 0:
        return embeddings
    if padding_mask is not None:
        embeddings = embeddings.masked_fill(padding_mask.bool().unsqueeze(-1), 0.0)
    padded = F.pad(embeddings, (0, 0, window, window))
    length = embeddings.shape[1]
    return torch.cat([padded[:, offset : offset + length] for offset in range(2 * window + 1)], dim=-1)


class FFNN(Module):
    """W, then num_layers-1 hidden-to-hidden layers, with ReLU between, then V: the notebook's network.

    With `output_dim=None` it has no V and returns the hidden states: the encoder of a tagger, whose head
    projects them. `window > 0` reads each token with its `window` neighbours on each side.
    """

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        output_dim: int | None,
        num_layers: int = 1,
        window: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.record_config(locals())
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if window < 0:
            raise ValueError(f"window must not be negative, got {window}")
        self.window = window
        self.input_hidden = nn.Linear(embedding_dim * (2 * window + 1), hidden_dim)
        self.hidden_layers = nn.ModuleList(nn.Linear(hidden_dim, hidden_dim) for _ in range(num_layers - 1))
        if output_dim is not None:
            self.hidden_output = nn.Linear(hidden_dim, output_dim)
        self.dropout = nn.Dropout(dropout)
        self.projects = output_dim is not None
        self.output_size = hidden_dim if output_dim is None else output_dim
        if self.projects:  # inside a tagger, the tagger initialises its parts together
            self.apply(self.init_weights)

    @classmethod
    def from_settings(cls, settings: FFNNSettings, input_dim: int) -> FFNN:
        """The encoder of a tagger's `model.encoder` settings."""
        return cls(
            input_dim, settings.hidden_dim, None, settings.num_layers, settings.window, settings.dropout
        )

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_dim) logits, or hidden states without V."""
        hidden = F.relu(self.input_hidden(self.dropout(windowed(embeddings, padding_mask, self.window))))
        for layer in self.hidden_layers:
            hidden = F.relu(layer(self.dropout(hidden)))
        hidden = self.dropout(hidden)
        return self.hidden_output(hidden) if self.projects else hidden
