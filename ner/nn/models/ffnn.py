"""Feed-forward tagger: each token's embedding (with its neighbours' in a window) through ReLU layers."""

import torch
import torch.nn.functional as F
from torch import nn

from ner.nn.module import Module


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
    """W, then num_layers-1 hidden-to-hidden layers, then V, with ReLU between."""

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        output_dim: int,
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
        self.hidden_output = nn.Linear(hidden_dim, output_dim)
        self.dropout = nn.Dropout(dropout)
        self.apply(self.init_weights)

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_dim) logits."""
        hidden = F.relu(self.input_hidden(self.dropout(windowed(embeddings, padding_mask, self.window))))
        for layer in self.hidden_layers:
            hidden = F.relu(layer(self.dropout(hidden)))
        return self.hidden_output(self.dropout(hidden))
