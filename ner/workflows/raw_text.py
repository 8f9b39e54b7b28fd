"""Tagging raw text files: documents streamed in (`.txt` lines or `.jsonl` objects), entities with
character offsets streamed out as JSON lines, CoNLL or one HTML page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ner.data_processing.formats import DOCSTART, conll_sentence, format_of, listed
from ner.data_processing.readers import raw_format, stream_documents
from ner.inference.opening import open_model
from ner.inference.render import PAGE_END, colours, page_start, render_doc
from ner.runtime.doc import Doc
from ner.runtime.folder import worker_preload
from ner.runtime.pipeline import TEXTS_PER_CHUNK, Pipeline, chunked, worker_pipeline
from ner.runtime.workers import available_cores, ordered_map, start_worker_server
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_path
from ner.utils.spans import listed_types

# The input size from which every core tags a file faster than one process, with a margin: 2 cores gave
# 1.07x at 1 MB, 1.21x at 2 MB here, and 0.93x-1.15x at 1.4 MB on another machine of the same kind
# (benchmarks/workers.py; docs/benchmarks.md).
AUTO_WORKERS_BYTES = 2_000_000


def jsonl_record(record: dict, doc: Doc, palette: dict[str, str]) -> str:
    """The input object with its entities (and, if asked, each sentence's best tag sequences) added."""
    return json.dumps(record | doc.found(), ensure_ascii=False) + "\n"


def conll_record(record: dict, doc: Doc, palette: dict[str, str]) -> str:
    """Token TAB tag, a blank line after each sentence, -DOCSTART- before each document."""
    blocks = [
        conll_sentence([token.text for token in sentence], tags) + "\n"
        for sentence, tags in zip(doc.sentences, doc.tags, strict=True)
    ]
    return f"{DOCSTART}\tO\n\n" + "".join(blocks)


def html_record(record: dict, doc: Doc, palette: dict[str, str]) -> str:
    """The document's text with its entities highlighted."""
    return render_doc(doc, palette) + "\n"


WRITERS = {"jsonl": jsonl_record, "conll": conll_record, "html": html_record}


def format_chunk(pipeline: Pipeline, job: tuple[list[dict], int, str]) -> str:
    """One chunk of input records tagged and written out in the output's format."""
    records, nbest, output_format = job
    docs = pipeline.process([r["text"] for r in records], nbest)
    palette = colours(listed_types(pipeline.model.id2label))
    write = WRITERS[output_format]
    return "".join(write(record, doc, palette) for record, doc in zip(records, docs, strict=True))


def format_in_worker(job: tuple[list[dict], int, str]) -> str:
    """`format_chunk` with a worker process's own pipeline."""
    return format_chunk(worker_pipeline(), job)


def auto_workers(input_path: str | Path) -> int:
    """Every core for a file of `AUTO_WORKERS_BYTES` or more, else one process."""
    path = Path(input_path)
    large = path.is_file() and path.stat().st_size >= AUTO_WORKERS_BYTES
    return available_cores() if large else 1


def predict_raw_file(
    run_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    fmt: str = "auto",
    nbest: int = 0,
    workers: int | None = 1,
    **options: object,
) -> int:
    """Tag a raw-text file into `output_path` (written whole or not at all) in `workers` processes (None:
    as `auto_workers` decides); returns the document count. `options` go to `open_model` (epoch,
    precision, document consistency, min_score)."""
    workers = auto_workers(input_path) if workers is None else workers
    if workers > 1:
        start_worker_server(worker_preload(run_dir))
    output_format = format_of(output_path, WRITERS)
    if output_format is None:
        suffix = Path(output_path).suffix or "no suffix"
        raise DataFormatError(str(output_path), None, f"write {listed(*WRITERS)}, not {suffix}")
    pipeline = Pipeline(open_model(run_dir, **options))
    records = stream_documents(input_path, raw_format(input_path, fmt))
    count = 0

    def jobs() -> Iterator[tuple[list[dict], int, str]]:
        nonlocal count
        for chunk in chunked(records, TEXTS_PER_CHUNK):
            count += len(chunk)
            yield chunk, nbest, output_format

    if workers == 1:
        parts = (format_chunk(pipeline, job) for job in jobs())
    else:
        parts = ordered_map(format_in_worker, jobs(), workers, pipeline.reopen())
    with atomic_path(output_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        if output_format == "html":
            palette = colours(listed_types(pipeline.model.id2label))
            out.write(page_start(f"Entities in {Path(input_path).name}", palette))
        for part in parts:
            out.write(part)
        if output_format == "html":
            out.write(PAGE_END)
    processes = f", {workers} worker processes" if workers > 1 else ""
    log.print(f"tagged {count} documents ({pipeline.tokenizer_name}{processes}) -> {output_path}")
    return count
