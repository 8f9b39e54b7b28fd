"""Small helpers the notebook imports (span extraction, seeding, coloured text, a success badge) and the device choice."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from ner.utils.spans import get_named_entity_spans

ANSI_COLORS = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
    "dark_green": "38;5;22",
}


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def colored(text: str, color: str) -> str:
    """`text` wrapped in the ANSI escape codes of `color`."""
    if color not in ANSI_COLORS:
        raise ValueError(f"color must be one of {sorted(ANSI_COLORS)}, got {color!r}")
    return f"\033[{ANSI_COLORS[color]}m{text}\033[0m"


class Success:
    """A badge shown after a step worked: HTML in a notebook, a line in a terminal."""

    message = "Success! Everything ran as expected."

    def _repr_html_(self) -> str:
        return f'<div style="font-size:1.4em;color:#1a7f37;font-weight:bold">&#10004; {self.message}</div>'

    def __repr__(self) -> str:
        return colored(f"\u2714 {self.message}", "green")


def success() -> Success:
    """A success badge, drawn offline."""
    return Success()


__all__ = ["colored", "get_named_entity_spans", "set_seed", "success"]


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' becomes cuda, then mps, then cpu, whichever is available first."""
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
