"""Tagging raw text files: documents streamed in (`.txt` lines or `.jsonl` objects), entities with
character offsets streamed out as JSON lines, CoNLL, one HTML page or an annotation tool's import format."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ner.data_processing.formats import DOCSTART, TOOL_FORMATS, conll_sentence, format_of, listed
from ner.data_processing.readers import raw_format, stream_documents
from ner.inference.opening import open_model
from ner.inference.render import PAGE_END, colours, page_start, render_doc
from ner.runtime.doc import Doc
from ner.runtime.folder import worker_preload
from ner.runtime.pipeline import TEXTS_PER_CHUNK, Pipeline, chunked, worker_pipeline
from ner.runtime.pre_annotations import (
    brat_annotations,
    doccano_line,
    label_studio_task,
    spacy_line,
)
from ner.runtime.workers import available_cores, ordered_map, start_worker_server
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_folder, atomic_path
from ner.utils.spans import listed_types

# The input size from which every core tags a file faster than one process, with a margin: 2 cores gave
# 1.07x at 1 MB, 1.21x at 2 MB here, and 0.93x-1.15x at 1.4 MB on another machine of the same kind
# (benchmarks/workers.py; docs/benchmarks.md).
AUTO_WORKERS_BYTES = 2_000_000


@dataclass(frozen=True)
class Context:
    """What a document's entry may need besides the document: the types' colours and the model's name."""

    palette: dict[str, str]
    model_version: str


def jsonl_record(record: dict, doc: Doc, context: Context) -> str:
    """The input object with its entities (and, if asked, each sentence's best tag sequences) added."""
    return json.dumps(record | doc.found(), ensure_ascii=False) + "\n"


def conll_record(record: dict, doc: Doc, context: Context) -> str:
    """Token TAB tag, a blank line after each sentence, -DOCSTART- before each document."""
    blocks = [
        conll_sentence([token.text for token in sentence], tags) + "\n"
        for sentence, tags in zip(doc.sentences, doc.tags, strict=True)
    ]
    return f"{DOCSTART}\tO\n\n" + "".join(blocks)


def html_record(record: dict, doc: Doc, context: Context) -> str:
    """The document's text with its entities highlighted."""
    return render_doc(doc, context.palette) + "\n"


def tool_entry(write: Callable[[dict, Doc, str], str]) -> Callable[[dict, Doc, Context], str]:
    """An annotation tool's entry writer, given the model's name as the version of its predictions."""
    return lambda record, doc, context: write(record, doc, context.model_version)


@dataclass(frozen=True)
class OutputFormat:
    """How tagged documents are written: each one's entry, and what goes between and after the entries
    (a page's head is written from the input's name); a folder format writes each entry to NAME.ann
    beside the text in NAME.txt."""

    entry: Callable[[dict, Doc, Context], str]
    head: Callable[[str, Context], str] = lambda title, context: ""
    between: str = ""
    tail: str = ""
    folder: bool = False


OUTPUT_FORMATS = {
    "jsonl": OutputFormat(jsonl_record),
    "conll": OutputFormat(conll_record),
    "html": OutputFormat(
        html_record, lambda title, c: page_start(f"Entities in {title}", c.palette), tail=PAGE_END
    ),
    "label-studio": OutputFormat(
        tool_entry(label_studio_task), lambda title, c: "[\n", between=",\n", tail="\n]\n"
    ),
    "doccano": OutputFormat(tool_entry(doccano_line)),
    "spacy": OutputFormat(tool_entry(spacy_line)),
    "brat": OutputFormat(tool_entry(brat_annotations), folder=True),
}
# The formats a file's suffix chooses; the annotation tools' are named with --output-format.
SUFFIX_FORMATS = ("jsonl", "conll", "html")


def format_chunk(pipeline: Pipeline, job: tuple[list[dict], int, str]) -> list[str]:
    """One chunk of input records tagged, each document's entry in the output's format."""
    records, nbest, output_format = job
    docs = pipeline.process([r["text"] for r in records], nbest)
    context = output_context(pipeline)
    entry = OUTPUT_FORMATS[output_format].entry
    return [entry(record, doc, context) for record, doc in zip(records, docs, strict=True)]


def output_context(pipeline: Pipeline) -> Context:
    """The context of a pipeline's entries."""
    return Context(colours(listed_types(pipeline.model.id2label)), pipeline.model.name)


def format_in_worker(job: tuple[list[dict], int, str]) -> list[str]:
    """`format_chunk` with a worker process's own pipeline."""
    return format_chunk(worker_pipeline(), job)


def output_format_of(output_path: str | Path, named: str | None) -> str:
    """The output's format: `named` (--output-format), else the one its suffix chooses."""
    if named is not None:
        if named not in OUTPUT_FORMATS:
            raise DataFormatError(str(output_path), None, f"unknown output format {named!r}")
        return named
    found = format_of(output_path, SUFFIX_FORMATS)
    if found is None:
        suffix = Path(output_path).suffix or "no suffix"
        tools = ", ".join(TOOL_FORMATS)
        problem = f"write {listed(*SUFFIX_FORMATS)}, not {suffix} (or name --output-format {tools})"
        raise DataFormatError(str(output_path), None, problem)
    return found


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
    output_format: str | None = None,
    **options: object,
) -> int:
    """Tag a raw-text file into `output_path` (written whole or not at all; its format named, else chosen
    by its suffix) in `workers` processes (None: as `auto_workers` decides); returns the document count.
    `options` go to `open_model` (epoch, precision, document consistency, min_score)."""
    output_format = output_format_of(output_path, output_format)
    workers = auto_workers(input_path) if workers is None else workers
    if workers > 1:
        start_worker_server(worker_preload(run_dir))
    pipeline = Pipeline(open_model(run_dir, **options))
    records = stream_documents(input_path, raw_format(input_path, fmt))
    count = write_documents(
        pipeline, records, output_path, output_format, nbest, workers, Path(input_path).name
    )
    processes = f", {workers} worker processes" if workers > 1 else ""
    log.print(f"tagged {count} documents ({pipeline.tokenizer_name}{processes}) -> {output_path}")
    return count


def write_documents(
    pipeline: Pipeline,
    records: Iterable[dict],
    output_path: str | Path,
    output_format: str,
    nbest: int = 0,
    workers: int = 1,
    title: str = "",
) -> int:
    """Tag records (dicts with "text") into `output_path` in `output_format`, whole or not at all, in
    `workers` processes; returns the document count."""
    layout = OUTPUT_FORMATS[output_format]
    pending: deque[list[dict]] = deque()

    def jobs() -> Iterator[tuple[list[dict], int, str]]:
        for chunk in chunked(records, TEXTS_PER_CHUNK):
            pending.append(chunk)
            yield chunk, nbest, output_format

    if workers == 1:
        parts = (format_chunk(pipeline, job) for job in jobs())
    else:
        parts = ordered_map(format_in_worker, jobs(), workers, pipeline.reopen())
    entries = (
        (record, entry) for part in parts for record, entry in zip(pending.popleft(), part, strict=True)
    )
    if layout.folder:
        with atomic_folder(output_path) as folder:
            return write_folder(entries, folder)
    count = 0
    with atomic_path(output_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(layout.head(title, output_context(pipeline)))
        for _, entry in entries:
            out.write((layout.between if count else "") + entry)
            count += 1
        out.write(layout.tail)
    return count


def write_folder(entries: Iterable[tuple[dict, str]], folder: Path) -> int:
    """Each record's text in NAME.txt and its entry in NAME.ann (brat's layout), NAME numbering them."""
    count = 0
    for count, (record, entry) in enumerate(entries, start=1):
        name = f"doc-{count:06d}"
        with open(folder / f"{name}.txt", "w", encoding="utf-8", newline="") as handle:
            handle.write(record["text"])
        (folder / f"{name}.ann").write_text(entry, encoding="utf-8")
    return count
