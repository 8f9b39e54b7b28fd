"""Tagging raw text files: documents streamed in (`.txt` lines or `.jsonl` objects), entities with
character offsets streamed out as JSON lines, CoNLL or one HTML page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ner.data_processing.readers import stream_documents
from ner.inference.pipeline import Doc, Pipeline
from ner.inference.render import PAGE_END, colours, page_start, render_doc
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_path
from ner.utils.spans import entity_types

RAW_INPUTS = {".txt": "raw", ".jsonl": "jsonl"}
OUTPUTS = (".jsonl", ".conll", ".html")


def raw_format(path: str | Path, fmt: str = "auto") -> str | None:
    """`raw` or `jsonl` if the input is raw text (by `fmt`, or else by its suffix), else None."""
    if fmt in ("raw", "jsonl"):
        return fmt
    return RAW_INPUTS.get(Path(path).suffix.lower()) if fmt == "auto" else None


def write_jsonl(out: TextIO, record: dict, doc: Doc) -> None:
    """The input object with its entities (and, if asked, each sentence's best tag sequences) added."""
    found = doc.to_dict()
    added = {key: found[key] for key in ("entities", "nbest") if key in found}
    out.write(json.dumps(record | added, ensure_ascii=False) + "\n")


def write_conll(out: TextIO, record: dict, doc: Doc) -> None:
    """Token TAB tag, a blank line after each sentence, -DOCSTART- before each document."""
    out.write("-DOCSTART-\tO\n\n")
    for sentence, tags in zip(doc.sentences, doc.tags, strict=True):
        out.write("".join(f"{token.text}\t{tag}\n" for token, tag in zip(sentence, tags, strict=True)) + "\n")


def tag_documents(
    pipeline: Pipeline, records: Iterator[dict], nbest: int = 0, batch_size: int = 64
) -> Iterator[tuple[dict, Doc]]:
    """Each input record with its Doc, in order, `batch_size` documents at a time."""
    pending: list[dict] = []
    for record in records:
        pending.append(record)
        if len(pending) == batch_size:
            yield from zip(pending, pipeline.process([r["text"] for r in pending], nbest), strict=True)
            pending = []
    if pending:
        yield from zip(pending, pipeline.process([r["text"] for r in pending], nbest), strict=True)


def predict_raw_file(
    run_dir: str | Path, input_path: str | Path, output_path: str | Path, fmt: str = "auto", nbest: int = 0
) -> int:
    """Tag a raw-text file into `output_path` (written whole or not at all); returns the document count."""
    suffix = Path(output_path).suffix.lower()
    if suffix not in OUTPUTS:
        raise DataFormatError(
            str(output_path), None, f"write .jsonl, .conll or .html, not {suffix or 'no suffix'}"
        )
    pipeline = Pipeline.load(run_dir)
    records = stream_documents(input_path, raw_format(input_path, fmt))
    count = 0
    with atomic_path(output_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        if suffix == ".html":
            palette = colours(entity_types(pipeline.experiment.id2label))
            out.write(page_start(f"Entities in {Path(input_path).name}", palette))
        for record, doc in tag_documents(pipeline, records, nbest):
            if suffix == ".jsonl":
                write_jsonl(out, record, doc)
            elif suffix == ".conll":
                write_conll(out, record, doc)
            else:
                out.write(render_doc(doc, palette) + "\n")
            count += 1
        if suffix == ".html":
            out.write(PAGE_END)
    log.print(f"tagged {count} documents ({pipeline.tokenizer_name}) -> {output_path}")
    return count
