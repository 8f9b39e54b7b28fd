"""Character features: a CNN over each word's UTF-8 bytes, max-pooled into one vector per word."""

import torch
from torch import nn

from ner.nn.module import Module

NUM_BYTES = 257  # 0 is padding, byte b is b + 1


def word_bytes(word: str, max_chars: int) -> list[int]:
    """Byte ids (1..256) of a word's first `max_chars` UTF-8 bytes."""
    return [b + 1 for b in word.encode("utf-8")[:max_chars]]


class CharCNN(Module):
    """Embeds bytes, convolves over each word and max-pools, giving (batch, length, num_filters)."""

    def __init__(self, char_dim: int = 32, num_filters: int = 64, kernel_size: int = 3):
        super().__init__()
        self.config = {"char_dim": char_dim, "num_filters": num_filters, "kernel_size": kernel_size}
        self.embedding = nn.Embedding(NUM_BYTES, char_dim, padding_idx=0)
        self.conv = nn.Conv1d(char_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.apply(self.init_weights)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """(batch, length, chars) byte ids -> (batch, length, num_filters) word features."""
        batch, length, chars = char_ids.shape
        flat = char_ids.reshape(batch * length, chars)
        features = self.conv(self.embedding(flat).transpose(1, 2))
        features = features.masked_fill((flat == 0).unsqueeze(1), float("-inf"))
        pooled = features.max(dim=2).values
        pooled = torch.where(torch.isinf(pooled), torch.zeros_like(pooled), pooled)
        return pooled.reshape(batch, length, -1)
