"""Tagging files with a trained run, and scoring its tags against labelled files."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ner.data_processing.readers import ReadResult, read_file, report_reading
from ner.inference.run import Experiment
from ner.models.document_consistency import harmonize_documents
from ner.utils.console import console, log
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_write_text
from ner.utils.metrics import entity_scores, sequence_metrics


def predict_tags(
    experiment: Experiment,
    data: ReadResult,
    epoch: int | None = None,
    batch_size: int = 256,
    document_consistency: bool | None = None,
    precision: str | None = None,
) -> list[list[str]]:
    """Predicted tags of every sentence of `data`, made consistent within documents if asked (by
    default, if the run's config says so), in `precision` (by default the run's)."""
    sentences = data.sentences
    return experiment.tag(
        [s.tokens for s in sentences],
        [s.document for s in sentences],
        epoch,
        precision,
        document_consistency,
        batch_size,
    )


def consistent_tags(data: ReadResult, tags: list[list[str]]) -> list[list[str]]:
    """Tags of `data`'s sentences made consistent within its documents."""
    return harmonize_documents([s.tokens for s in data.sentences], tags, [s.document for s in data.sentences])


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
    experiment = Experiment.open(run_dir)
    data = read_file(input_path, fmt)
    report_reading(data)
    tags = predict_tags(
        experiment, data, epoch, document_consistency=document_consistency, precision=precision
    )
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
    experiment = Experiment.open(run_dir)
    data = read_file(input_path, fmt)
    if not data.labelled:
        raise DataFormatError(str(input_path), None, "carries no tags to evaluate against")
    report_reading(data)
    label2id = {label: i for i, label in experiment.id2label.items()}
    unknown = sorted({t for s in data.sentences for t in s.tags} - set(label2id))
    if unknown:
        raise DataFormatError(str(input_path), None, f"tags {unknown} are not in the model's label set")
    pred_tags = predict_tags(
        experiment, data, epoch, document_consistency=document_consistency, precision=precision
    )
    gold = [[label2id[t] for t in s.tags] for s in data.sentences]
    pred = [[label2id[t] for t in seq] for seq in pred_tags]
    metrics = sequence_metrics(gold, pred, experiment.id2label)
    per_type = entity_scores(gold, pred, experiment.id2label)
    console.print(metrics_table(metrics), per_type_table(per_type))
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
