"""The dataset workflow: corpus folders of JSON, CoNLL or annotated files in, one saved DatasetDict out."""

from __future__ import annotations

from collections.abc import Sequence
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
from ner.data_processing.sources import check_shared_types, combine, entity_types, rename_types
from ner.utils.console import console, log
from ner.utils.errors import DataFormatError, NerError


def create_dataset(
    inputs: Sequence[str | Path],
    output_dir: str | Path,
    fmt: str = "auto",
    max_length: int | None = None,
    misaligned: str = "error",
    type_map: dict[str, str] | None = None,
    keep_types: Sequence[str] = (),
) -> datasets.DatasetDict:
    """Read train/val/test of each corpus folder in `inputs` (token files, or texts with character spans
    aligned to the raw-text splitter's tokens under the `misaligned` policy), rename entity types by
    `type_map`, print a summary, and save one DatasetDict that records its sources. Several corpora
    keep their splits in one: a `source` column names each sentence's folder, and an entity type that
    only one of them has is refused unless it is in `keep_types`."""
    if not inputs:
        raise NerError("create-dataset needs at least one corpus folder")
    names = [Path(path).resolve().name for path in inputs]
    for name in names:
        if names.count(name) > 1:
            raise NerError(f"two sources are named {name} (a source is named by its folder); rename one")
    type_map = type_map or {}
    read = {
        name: read_corpus(path, fmt, max_length, misaligned) for name, path in zip(names, inputs, strict=True)
    }
    found = set().union(*(entity_types(dataset) for dataset in read.values()))
    for etype in sorted(set(type_map) - found):
        raise NerError(
            f"--map {etype}={type_map[etype]}: no source tags {etype} (they tag {', '.join(sorted(found))})"
        )
    read = {name: rename_types(dataset, type_map) for name, dataset in read.items()}
    types = {name: entity_types(dataset) for name, dataset in read.items()}
    check_shared_types(types, keep_types)
    dataset = combine(read) if len(read) > 1 else read[names[0]]
    records = [
        {
            "name": name,
            "path": str(Path(path)),
            "splits": {split: len(data) for split, data in read[name].items()},
            "types": sorted(types[name]),
        }
        for name, path in zip(names, inputs, strict=True)
    ]
    save_dataset(
        dataset, output_dir, {"sources": records, "type_map": type_map, "kept_types": sorted(keep_types)}
    )
    log.print(f"dataset saved to {output_dir}")
    return dataset


def read_corpus(
    input_dir: str | Path, fmt: str = "auto", max_length: int | None = None, misaligned: str = "error"
) -> datasets.DatasetDict:
    """The splits of one corpus folder, with a summary table of what was read."""
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
    return to_dataset_dict(results)


def alignment_table(report: AlignmentReport, policy: str) -> Table:
    """Per entity type, how many spans were kept as annotated, expanded, contracted or skipped."""
    table = Table(title=f"entity spans aligned to tokens (--misaligned {policy})")
    for column in ("type", "as annotated", "expanded", "contracted", "skipped"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for row in report.rows():
        table.add_row(*map(str, row))
    return table
