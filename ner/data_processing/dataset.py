"""Building, saving and loading the DatasetDict of a corpus (train, val, test)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import datasets

from ner.data_processing.alignment import AlignmentReport, read_spans
from ner.data_processing.annotations import SPAN_FORMATS, span_format
from ner.data_processing.constants import DEFAULT_LABELS
from ner.data_processing.formats import file_name, format_of, suffixes
from ner.data_processing.readers import ReadResult, read_file
from ner.data_processing.sources import write_sources
from ner.data_processing.text import TextSplitter
from ner.utils.errors import DataFormatError

SPLITS = ("train", "val", "test")
SPLIT_SUFFIXES = {"json": suffixes("json"), "conll": suffixes("conll", "tokens", "raw")}


def find_split_files(directory: str | Path, fmt: str = "auto") -> dict[str, Path]:
    """The file of each split in a corpus folder: train/val/test .json, else .conll (test may be .tokens)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFormatError(
            str(directory), None, "no such directory" if not directory.exists() else "not a directory"
        )
    formats = ["json", "conll"] if fmt == "auto" else [fmt]
    for candidate in formats:
        files = {}
        for split in SPLITS:
            for suffix in SPLIT_SUFFIXES.get(candidate, suffixes(candidate)):
                if (directory / f"{split}{suffix}").is_file():
                    files[split] = directory / f"{split}{suffix}"
                    break
        if "train" in files:
            return files
    raise DataFormatError(str(directory), None, "holds no train.json or train.conll")


def find_span_files(directory: str | Path, fmt: str = "auto") -> dict[str, tuple[Path, str]]:
    """Each split's span-annotated file (`split.jsonl`, a Label Studio `split.json`, or a brat folder
    `split/`) and its format (`fmt`, or detected from the content); empty if the folder holds none."""
    directory = Path(directory)
    found = {}
    for split in SPLITS:
        files = [directory / file_name(split, name) for name in ("jsonl", "json")]
        for candidate in (*files, directory / split):
            detected = span_format(candidate) if candidate.exists() else None
            if detected is not None:
                found[split] = (candidate, fmt if fmt in SPAN_FORMATS else detected)
                break
    return found if "train" in found else {}


def read_span_splits(
    files: dict[str, tuple[Path, str]], policy: str, max_length: int | None = None
) -> tuple[dict[str, ReadResult], AlignmentReport]:
    """Each split's span-annotated file split into sentences and tagged, with one alignment report."""
    splitter = TextSplitter()
    report = AlignmentReport()
    results = {}
    for split, (path, fmt) in files.items():
        results[split], split_report = read_spans(path, fmt, policy, splitter, max_length)
        report.add(split_report)
    return results, report


def read_splits(files: dict[str, Path], max_length: int | None = None) -> dict[str, ReadResult]:
    """Read each split's file; training and validation data must carry tags."""
    results = {}
    for split, path in files.items():
        fmt = format_of(path, ("json",)) or "conll"
        result = read_file(path, fmt, max_length)
        if split in ("train", "val") and not result.labelled:
            raise DataFormatError(
                str(path), None, f"the {split} split carries no tags; NER tags are required"
            )
        results[split] = result
    return results


def to_dataset_dict(results: dict[str, ReadResult]) -> datasets.DatasetDict:
    """The read splits as a DatasetDict with string columns text, NER (if labelled) and index, and each
    sentence's document number where the file marks documents."""
    splits = {}
    for split, result in results.items():
        columns = result.to_columns()
        features = datasets.Features(
            {
                name: datasets.Value("int32")
                if name == "document"
                else datasets.Sequence(datasets.Value("string"))
                for name in columns
            }
        )
        splits[split] = datasets.Dataset.from_dict(columns, features=features)
    return datasets.DatasetDict(splits)


def save_dataset(dataset: datasets.DatasetDict, path: str | Path, sources: list[dict] | None = None) -> None:
    """Save a DatasetDict to a folder (with the record of its `sources`, if given), whole or not at all:
    written beside it, then moved into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        dataset.save_to_disk(str(tmp / "data"))
        if sources is not None:
            write_sources(tmp / "data", sources)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        (tmp / "data").rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_dataset(path: str | Path) -> datasets.DatasetDict:
    """Load a DatasetDict saved by `save_dataset`."""
    path = Path(path)
    if not (path / "dataset_dict.json").is_file():
        raise DataFormatError(
            str(path), None, "not a saved dataset (no dataset_dict.json); run create-dataset first"
        )
    return datasets.load_from_disk(str(path))


def label_set(
    dataset: datasets.DatasetDict, label_colname: str = "NER", types: Iterable[str] = ()
) -> list[str]:
    """Tags of the labelled splits and of `types` (kept though the data may lack them): the notebook's
    nine in their order where the types are among its four, else O and the B- and I- tags of each
    type, sorted by type."""
    found: set[str] = {f"{prefix}-{etype}" for etype in types for prefix in ("B", "I")}
    for split in dataset.values():
        if label_colname in split.column_names:
            found.update(tag for tags in split[label_colname] for tag in tags)
    if found <= set(DEFAULT_LABELS):
        return list(DEFAULT_LABELS)
    types = sorted({tag[2:] for tag in found if tag != "O"})
    return ["O"] + [f"{prefix}-{etype}" for etype in types for prefix in ("B", "I")]


def as_examples(data: object, columns: list[str]) -> list[dict]:
    """A dataset (Hugging Face or list of dicts) as a list of dicts holding only `columns`."""
    if isinstance(data, list):
        return [{c: example[c] for c in columns if c in example} for example in data]
    present = [c for c in columns if c in data.column_names]
    return data.select_columns(present).to_list()
