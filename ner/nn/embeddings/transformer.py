"""A packaged pretrained transformer as a token representation: each word read as its first WordPiece's
contextual vector, or the mean of its pieces' vectors; fine-tuned with the tagger."""

from __future__ import annotations

import torch
from torch import nn

from ner.data_processing.word_pieces import EXTRA_HINT, transformer_dir
from ner.nn.module import Module
from ner.nn.parts import TransformerSettings
from ner.utils.errors import NerError

POOLINGS = ("first", "mean")


class TransformerEmbedding(Module):
    """(segments, pieces) WordPiece ids -> (batch, length, hidden) word vectors, read from the
    transformer `name` of `TRANSFORMER_PACKAGES` (no network: the weights ship inside the package)."""

    def __init__(self, name: str = "minilm", pooling: str = "first"):
        super().__init__()
        self.record_config(locals())
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        try:
            from transformers import AutoModel
            from transformers.utils import logging
        except ImportError:
            raise NerError(f"transformer {name!r} needs the transformers library; {EXTRA_HINT}") from None
        logging.set_verbosity_error()
        logging.disable_progress_bar()
        self.encoder = AutoModel.from_pretrained(
            transformer_dir(name), local_files_only=True, add_pooling_layer=False
        )
        self.pad_id = self.encoder.config.pad_token_id
        self.output_size = self.encoder.config.hidden_size
        self.pooling = pooling

    @classmethod
    def from_settings(cls, settings: TransformerSettings) -> TransformerEmbedding:
        """The transformer part of a tagger's `model.transformer` settings."""
        return cls(settings.name, settings.pooling)

    def forward(
        self, piece_ids: torch.Tensor, piece_word: torch.Tensor, grid: tuple[int, int]
    ) -> torch.Tensor:
        """Word vectors on the (batch, length) `grid`; `piece_word` gives each piece's flat grid
        position (-1 at special tokens and padding); a position no piece reaches is zero."""
        hidden = self.encoder(input_ids=piece_ids, attention_mask=piece_ids != self.pad_id).last_hidden_state
        hidden = hidden.reshape(-1, hidden.shape[-1])
        owner = piece_word.reshape(-1)
        if self.pooling == "first":
            previous = torch.cat([owner.new_full((1,), -1), owner[:-1]])
            keep = (owner >= 0) & (owner != previous)
        else:
            keep = owner >= 0
        words = hidden.new_zeros(grid[0] * grid[1], hidden.shape[-1])
        words = words.index_add(0, owner[keep], hidden[keep])
        if self.pooling == "mean":
            counts = torch.bincount(owner[keep], minlength=words.shape[0]).clamp(min=1)
            words = words / counts.unsqueeze(-1).to(words.dtype)
        return words.reshape(grid[0], grid[1], -1)

    def export_form(self) -> nn.Module:
        """The transformer with pieces pooled by a scatter-add, in eager attention."""
        return ScatteredPieces(self)


class ScatteredPieces(nn.Module):
    """The transformer with its pieces pooled into words by a scatter-add into the token grid plus one
    spare row that takes special tokens and padding (the part selects pieces by a boolean mask)."""

    def __init__(self, part: TransformerEmbedding):
        super().__init__()
        self.encoder, self.pad_id, self.pooling = part.encoder, part.pad_id, part.pooling
        # Eager attention: plain matrix products and a softmax, which trace into standard ONNX operators.
        self.encoder.set_attn_implementation("eager")

    def forward(
        self, piece_ids: torch.Tensor, piece_word: torch.Tensor, grid: tuple[int, int]
    ) -> torch.Tensor:
        hidden = self.encoder(input_ids=piece_ids, attention_mask=piece_ids != self.pad_id).last_hidden_state
        size = hidden.shape[-1]
        hidden = hidden.reshape(-1, size)
        owner = piece_word.reshape(-1)
        keep = owner >= 0
        if self.pooling == "first":
            keep = keep & (owner != torch.cat([owner.new_full((1,), -1), owner[:-1]]))
        cells = grid[0] * grid[1]
        target = torch.where(keep, owner, torch.full_like(owner, cells))
        words = hidden.new_zeros(cells + 1, size).scatter_add(0, target.unsqueeze(1).expand(-1, size), hidden)
        if self.pooling == "mean":
            counts = hidden.new_zeros(cells + 1).scatter_add(0, target, hidden.new_ones(target.shape[0]))
            words = words / counts.clamp(min=1).unsqueeze(-1)
        return words[:cells].reshape(grid[0], grid[1], size)
