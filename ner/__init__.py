"""Named-entity recognition with feed-forward and recurrent neural networks."""

from __future__ import annotations

import typing

__version__ = "0.1.0"

if typing.TYPE_CHECKING:
    from pathlib import Path

    from ner.runtime.pipeline import Pipeline


def load(source: str | Path, **options: object) -> Pipeline:
    """A trained model ready to tag raw text: `ner.load(RUN_DIR)("Angela Merkel flew to Paris.")`. A
    folder written by `ner export` runs on ONNX Runtime without torch; a run folder (or an installed
    model's name) on torch. `options`: `document_consistency`, `batch_size`, `min_score` (drop entities
    scored below it: a number, or a mapping of types to numbers) and, for runs, `epoch` and
    `precision`."""
    from ner.inference.opening import open_model
    from ner.runtime.pipeline import Pipeline

    return Pipeline(open_model(source, **options))
