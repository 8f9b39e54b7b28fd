"""The user's cache folder of ner: what it measured on this machine and what it derived from large
inputs, safe to delete."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "NER_CACHE_DIR"


def cache_dir() -> Path:
    """`NER_CACHE_DIR`, else ner/ in the user's cache (`$XDG_CACHE_HOME`, else ~/.cache)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ner"
