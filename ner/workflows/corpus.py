"""The dataset workflow: a corpus folder of JSON or CoNLL files in, a saved DatasetDict out."""

from __future__ import annotations

from pathlib import Path

import datasets
from rich.table import Table

from ner.data_processing.dataset import find_split_files, read_splits, save_dataset, to_dataset_dict
from ner.data_processing.readers import report_reading
from ner.utils.console import console, log


def create_dataset(
    input_dir: str | Path, output_dir: str | Path, fmt: str = "auto", max_length: int | None = None
) -> datasets.DatasetDict:
    """Read train/val/test of a corpus folder, print a summary, and save the DatasetDict."""
    files = find_split_files(input_dir, fmt)
    results = read_splits(files, max_length)
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
