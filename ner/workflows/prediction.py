"""Tagging token files (CoNLL, the notebook's JSON, `.tokens`) with a trained model."""

from __future__ import annotations

from pathlib import Path

from ner.data_processing.formats import conll_sentence
from ner.data_processing.readers import ReadResult, read_file, report_reading
from ner.inference.opening import open_model
from ner.runtime.model import Model
from ner.utils.console import log
from ner.utils.io import atomic_write_text


def predict_tags(run: Model, data: ReadResult) -> list[list[str]]:
    """Predicted tags of every sentence of `data` by the run's Predictor (its precision, and document
    consistency within the file's documents if it does that)."""
    sentences = data.sentences
    return run.predictor.tag([s.tokens for s in sentences], [s.document for s in sentences])


def predict_file(
    run_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    fmt: str = "auto",
    **options: object,
) -> int:
    """Tag a file and write CoNLL (token TAB tag, blank line between sentences; entities below the
    model's `min_score` tagged O); returns the sentence count. `options` go to `open_model`."""
    data = read_file(input_path, fmt)
    report_reading(data)
    run = open_model(run_dir, **options)
    tags = predict_tags(run, data)
    blocks = [conll_sentence(s.tokens, t) for s, t in zip(data.sentences, tags, strict=True)]
    atomic_write_text(output_path, "\n".join(blocks))
    log.print(f"tagged {len(data.sentences)} sentences ({data.num_tokens} tokens) -> {output_path}")
    return len(data.sentences)
