"""Tagging files with a trained run, and scoring its tags against labelled files."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ner.data_processing.annotations import SPAN_FORMATS, read_annotations, span_format
from ner.data_processing.readers import ReadResult, read_file, report_reading
from ner.inference.opening import open_model
from ner.runtime.model import Model
from ner.utils.console import console, log
from ner.utils.errors import DataFormatError
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
    epoch: int | None = None,
    document_consistency: bool | None = None,
    precision: str | None = None,
) -> int:
    """Tag a file and write CoNLL (token TAB tag, blank line between sentences); returns the sentence count."""
    data = read_file(input_path, fmt)
    report_reading(data)
    run = open_model(run_dir, epoch=epoch, precision=precision, document_consistency=document_consistency)
    tags = predict_tags(run, data)
    blocks = [
        "".join(f"{tok}\t{tag}\n" for tok, tag in zip(s.tokens, t, strict=True))
        for s, t in zip(data.sentences, tags, strict=True)
    ]
    atomic_write_text(output_path, "\n".join(blocks))
    log.print(f"tagged {len(data.sentences)} sentences ({data.num_tokens} tokens) -> {output_path}")
    return len(data.sentences)


def evaluate_file(
    run_dir: str | Path,
    input_path: str | Path,
    fmt: str = "auto",
    epoch: int | None = None,
    document_consistency: bool | None = None,
    precision: str | None = None,
) -> dict:
    """Metrics of a run's predictions on a labelled file, printed with a per-type table."""
    from ner.utils.metrics import entity_scores, sequence_metrics  # scikit-learn: only when scoring

    span_fmt = fmt if fmt in SPAN_FORMATS else span_format(input_path) if fmt == "auto" else None
    if span_fmt is not None:
        return evaluate_spans(
            open_model(run_dir, epoch=epoch, precision=precision, document_consistency=document_consistency),
            input_path,
            span_fmt,
        )
    data = read_file(input_path, fmt)
    if not data.labelled:
        raise DataFormatError(str(input_path), None, "carries no tags to evaluate against")
    report_reading(data)
    run = open_model(run_dir, epoch=epoch, precision=precision, document_consistency=document_consistency)
    label2id = {label: i for i, label in run.id2label.items()}
    unknown = sorted({t for s in data.sentences for t in s.tags} - set(label2id))
    if unknown:
        raise DataFormatError(str(input_path), None, f"tags {unknown} are not in the model's label set")
    gold = [[label2id[t] for t in s.tags] for s in data.sentences]
    pred = [[label2id[t] for t in seq] for seq in predict_tags(run, data)]
    metrics = sequence_metrics(gold, pred, run.id2label)
    per_type = entity_scores(gold, pred, run.id2label)
    console.print(metrics_table(metrics), per_type_table(per_type))
    return {"metrics": metrics, "per_type": per_type}


def evaluate_spans(run: Model, input_path: str | Path, fmt: str) -> dict:
    """Exact character-span precision, recall and F1 (micro and per type) of a run's entities on the
    texts of a span-annotated file, printed; each text is tagged as one document from raw text."""
    from ner.runtime.pipeline import Pipeline, chunked
    from ner.utils.metrics import character_span_scores

    pipeline = Pipeline(run)
    gold, pred = [], []
    for chunk in chunked(read_annotations(input_path, fmt), 64):
        for doc in chunk:
            for span in doc.spans:
                if not 0 <= span.start < span.end <= len(doc.text):
                    where = span.line if span.line is not None else doc.line
                    raise DataFormatError(
                        doc.source, where, f"span {span.start}-{span.end} lies outside the text"
                    )
            gold.append({(s.start, s.end, s.label) for s in doc.spans})
        for doc in pipeline.process([doc.text for doc in chunk]):
            pred.append({(e.start, e.end, e.label) for e in doc.entities})
    metrics, per_type = character_span_scores(gold, pred)
    console.print(metrics_table(metrics, "exact character spans"), per_type_table(per_type))
    return {"metrics": metrics, "per_type": per_type}


def metrics_table(metrics: dict[str, float], title: str = "metrics") -> Table:
    """A two-column table of metric values."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}")
    return table


def per_type_table(per_type: dict[str, dict[str, float]]) -> Table:
    """Precision, recall, F1 and support of each entity type."""
    table = Table(title="per entity type (exact spans)")
    for column in ("type", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for etype, s in per_type.items():
        table.add_row(
            etype, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"])
        )
    return table
