"""The dataset workflow: a corpus folder of JSON or CoNLL files in, a saved DatasetDict out."""

from __future__ import annotations

from pathlib import Path

import datasets
from rich.table import Table

from ner.data_processing.alignment import AlignmentReport
from ner.data_processing.annotations import SPAN_FORMATS
from ner.data_processing.dataset import (
    find_span_files,
    find_split_files,
    read_span_splits,
    read_splits,
    save_dataset,
    to_dataset_dict,
)
from ner.data_processing.readers import report_reading
from ner.utils.console import console, log
from ner.utils.errors import DataFormatError


def create_dataset(
    input_dir: str | Path,
    output_dir: str | Path,
    fmt: str = "auto",
    max_length: int | None = None,
    misaligned: str = "error",
) -> datasets.DatasetDict:
    """Read train/val/test of a corpus folder (token files, or texts with character spans aligned to
    the raw-text splitter's tokens under the `misaligned` policy), print a summary, and save the
    DatasetDict."""
    span_files = find_span_files(input_dir, fmt) if fmt == "auto" or fmt in SPAN_FORMATS else {}
    if fmt in SPAN_FORMATS and not span_files:
        raise DataFormatError(
            str(input_dir), None, f"holds no train.jsonl, train.json or train/ in {fmt} format"
        )
    if span_files:
        results, report = read_span_splits(span_files, misaligned, max_length)
        console.print(alignment_table(report, misaligned))
    else:
        results = read_splits(find_split_files(input_dir, fmt), max_length)
    table = Table(title=f"dataset from {input_dir}")
    for column in (
        "split",
        "file",
        "sentences",
        "tokens",
        "labelled",
        "empty skipped",
        "truncated",
        "orphan I- tags",
    ):
        table.add_column(column, justify="left" if column in ("split", "file") else "right")
    for split, result in results.items():
        report_reading(result)
        table.add_row(
            split,
            Path(result.path).name,
            str(len(result.sentences)),
            str(result.num_tokens),
            "yes" if result.labelled else "no",
            str(result.empty_skipped),
            str(result.truncated),
            str(result.orphan_inside_tags),
        )
    console.print(table)
    dataset = to_dataset_dict(results)
    save_dataset(dataset, output_dir)
    log.print(f"dataset saved to {output_dir}")
    return dataset


def alignment_table(report: AlignmentReport, policy: str) -> Table:
    """Per entity type, how many spans were kept as annotated, expanded, contracted or skipped."""
    table = Table(title=f"entity spans aligned to tokens (--misaligned {policy})")
    for column in ("type", "as annotated", "expanded", "contracted", "skipped"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for row in report.rows():
        table.add_row(*map(str, row))
    return table
