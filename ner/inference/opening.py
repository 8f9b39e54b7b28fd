"""The one function that opens a trained model for tagging, whatever it is: a folder written by `ner
export` runs on ONNX Runtime without torch; a run folder or an installed model name runs on torch."""

from __future__ import annotations

from pathlib import Path

from ner.runtime.exported import open_exported
from ner.runtime.folder import RunFiles, is_exported
from ner.runtime.model import Model
from ner.utils.errors import require_training


def open_model(source: str | Path | RunFiles, **options: object) -> Model:
    """An exported folder or a run (`options` as `open_run` and `open_exported` take them)."""
    if is_exported(source):
        return open_exported(source, **options)
    require_training(
        f"{source}: tagging with a training run (export it with `ner export` to tag without torch)"
    )
    # Imported here: torch is an optional install, and exported models never need it.
    from ner.inference.run import open_run

    return open_run(source, **options)
