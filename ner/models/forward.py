"""Running any tagger on a batch: its forward pass with the inputs it takes, and its decoding."""

from __future__ import annotations

import inspect

import torch
from torch import nn

MODEL_INPUTS = ("padding_mask", "char_ids", "casing_ids", "piece_ids", "piece_word")


def forward_model(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits of a batch, passing the padding mask, character ids, casing classes and WordPieces to
    models that take them."""
    accepted = inspect.signature(model.forward).parameters
    extras = {k: v for k, v in batch.items() if k in MODEL_INPUTS and k in accepted}
    return model(batch["input_ids"], **extras)


def decode(model: nn.Module, logits: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
    """Tag ids of a batch: the model's own decoder if it has one, else the arg-max."""
    if hasattr(model, "decode"):
        return model.decode(logits, padding_mask)
    return logits.argmax(dim=-1)
