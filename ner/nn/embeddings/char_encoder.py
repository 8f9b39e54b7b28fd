"""What the character encoders share: each distinct word of a batch is encoded once from its UTF-8
bytes, then placed at every position that holds it."""

from __future__ import annotations

import abc

import torch
import torch.nn.functional as F

from ner.nn.module import Module

NUM_BYTES = 257  # 0 is padding, byte b is b + 1


class CharEncoder(Module, abc.ABC):
    """A character encoder: `encode_words` gives each distinct word's `output_size` features."""

    output_size: int

    def forward(self, char_words: torch.Tensor, char_index: torch.Tensor) -> torch.Tensor:
        """(words, chars) byte ids of a batch's distinct words and (batch, length) each position's word ->
        (batch, length, output_size) word features."""
        return F.embedding(char_index, self.encode_words(char_words))

    @abc.abstractmethod
    def encode_words(self, words: torch.Tensor) -> torch.Tensor:
        """(words, chars) byte ids -> (words, output_size) features."""
