"""Named-entity recognition with feed-forward and recurrent neural networks."""

from __future__ import annotations

import typing

__version__ = "0.1.0"

if typing.TYPE_CHECKING:
    from pathlib import Path

    from ner.inference.pipeline import Pipeline


def load(run_dir: str | Path) -> Pipeline:
    """A trained run folder, ready to tag raw text: `ner.load(RUN_DIR)("Angela Merkel flew to Paris.")`."""
    from ner.inference.pipeline import Pipeline

    return Pipeline.load(run_dir)
