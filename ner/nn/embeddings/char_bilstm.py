"""Character features: a bidirectional LSTM over each word's UTF-8 bytes, its two final states joined."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ner.nn.embeddings.char_encoder import NUM_BYTES, CharEncoder
from ner.nn.parts import CharBiLSTMSettings


class CharBiLSTM(CharEncoder):
    """Embeds bytes and reads each word forwards and backwards (Lample et al., 2016), giving (batch,
    length, 2 * char_hidden) features; every distinct word of a batch is read once."""

    def __init__(self, char_dim: int = 32, char_hidden: int = 25):
        super().__init__()
        self.record_config(locals())
        self.embedding = nn.Embedding(NUM_BYTES, char_dim, padding_idx=0)
        self.lstm = nn.LSTM(char_dim, char_hidden, batch_first=True, bidirectional=True)
        self.output_size = 2 * char_hidden
        self.apply(self.init_weights)

    @classmethod
    def from_settings(cls, settings: CharBiLSTMSettings) -> CharBiLSTM:
        """The character encoder of a tagger's `model.chars` settings."""
        return cls(settings.dim, settings.hidden)

    def encode_words(self, words: torch.Tensor) -> torch.Tensor:
        """(words, chars) byte ids -> (words, 2 * char_hidden); the all-padding word gives zeros."""
        lengths = (words != 0).sum(dim=1)
        packed = pack_padded_sequence(
            self.embedding(words), lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        _, (final, _) = self.lstm(packed)
        features = torch.cat([final[0], final[1]], dim=-1)
        return features.masked_fill((lengths == 0).unsqueeze(-1), 0.0)
