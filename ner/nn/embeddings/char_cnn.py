"""Character features: a CNN over each word's UTF-8 bytes, max-pooled into one vector per word."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner.nn.embeddings.char_encoder import NUM_BYTES, CharEncoder
from ner.nn.parts import CharCNNSettings


class CharCNN(CharEncoder):
    """Embeds bytes, convolves over each word and max-pools, giving (batch, length, num_filters)."""

    def __init__(self, char_dim: int = 32, num_filters: int = 64, kernel_size: int = 3):
        super().__init__()
        self.record_config(locals())
        if kernel_size % 2 == 0:
            raise ValueError(f"char_kernel_size must be odd (a centred window), got {kernel_size}")
        self.kernel_size = kernel_size
        self.output_size = num_filters
        self.embedding = nn.Embedding(NUM_BYTES, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.apply(self.init_weights)

    @classmethod
    def from_settings(cls, settings: CharCNNSettings) -> CharCNN:
        """The character encoder of a tagger's `model.chars` settings."""
        return cls(settings.dim, settings.filters, settings.kernel_size)

    def encode_words(self, words: torch.Tensor) -> torch.Tensor:
        """(words, chars) byte ids -> (words, num_filters): the convolution as one matrix product over
        each byte's window (the windows side by side), max-pooled over real bytes."""
        chars = words.shape[1]
        half = self.kernel_size // 2
        embedded = F.pad(self.embedding(words), (0, 0, half, half))
        windows = torch.cat([embedded[:, k : k + chars] for k in range(self.kernel_size)], dim=-1)
        weight = self.conv.weight.permute(2, 1, 0).reshape(-1, self.conv.out_channels)
        features = windows @ weight + self.conv.bias
        features = features.masked_fill((words == 0).unsqueeze(-1), float("-inf"))
        pooled = features.max(dim=1).values
        return torch.where(torch.isinf(pooled), torch.zeros_like(pooled), pooled)
