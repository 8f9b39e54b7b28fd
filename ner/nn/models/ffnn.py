"""Feed-forward tagger: each token's embedding goes through ReLU layers to tag logits."""

import torch
import torch.nn.functional as F
from torch import nn

from ner.nn.module import Module


class FFNN(Module):
    """W, then num_layers-1 hidden-to-hidden layers, then V, with ReLU between."""

    def __init__(self, embedding_dim: int, hidden_dim: int, output_dim: int, num_layers: int = 1):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.config = {
            "embedding_dim": embedding_dim,
            "hidden_dim": hidden_dim,
            "output_dim": output_dim,
            "num_layers": num_layers,
        }
        self.input_hidden = nn.Linear(embedding_dim, hidden_dim)
        self.hidden_layers = nn.ModuleList(nn.Linear(hidden_dim, hidden_dim) for _ in range(num_layers - 1))
        self.hidden_output = nn.Linear(hidden_dim, output_dim)
        self.apply(self.init_weights)

    def forward(self, embeddings: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length, embedding_dim) -> (batch, length, output_dim) logits."""
        hidden = F.relu(self.input_hidden(embeddings))
        for layer in self.hidden_layers:
            hidden = F.relu(layer(hidden))
        return self.hidden_output(hidden)
