"""NERPredictor: token embedding followed by a tagging network."""

from __future__ import annotations

import torch

from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.models.ffnn import FFNN
from ner.nn.models.rnn import RNN
from ner.nn.module import Module

MODEL_TYPES = ("ffnn", "rnn")


class NERPredictor(Module):
    """Embeds token ids and maps them to per-token tag logits with an FFNN or an RNN."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        padding_idx: int,
        hidden_dim: int,
        output_dim: int,
        model: str = "ffnn",
        num_layers: int = 1,
        bias: bool = True,
        nonlinearity: str = "tanh",
        fused: bool = True,
    ):
        super().__init__()
        if model not in MODEL_TYPES:
            raise ValueError(f"model must be one of {MODEL_TYPES}, got {model!r}")
        self.config = {
            "model": model,
            "vocab_size": vocab_size,
            "embedding_dim": embedding_dim,
            "padding_idx": padding_idx,
            "hidden_dim": hidden_dim,
            "output_dim": output_dim,
            "num_layers": num_layers,
            "bias": bias,
            "nonlinearity": nonlinearity,
            "fused": fused,
        }
        self.embedding = TokenEmbedding(vocab_size, embedding_dim, padding_idx)
        if model == "ffnn":
            self.model = FFNN(embedding_dim, hidden_dim, output_dim, num_layers)
        else:
            self.model = RNN(embedding_dim, hidden_dim, output_dim, num_layers, bias, nonlinearity, fused)

    def forward(self, input_ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length) token ids -> (batch, length, output_dim) tag logits."""
        return self.model(self.embedding(input_ids), padding_mask)

    @torch.no_grad()
    def predict(self, input_ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, length) most likely tag ids."""
        return self(input_ids, padding_mask).argmax(dim=-1)
