"""Readers of span-annotated text, as annotation tools export it: doccano JSONL, Label Studio JSON,
spaCy/Prodigy JSONL, brat standoff, and the JSONL that `ner predict` writes. Each gives texts with
character-offset spans, every span naming where it was read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ner.data_processing.formats import TOOL_FORMATS, format_of
from ner.utils.errors import DataFormatError
from ner.utils.files import read_json_file, stream_lines

SPAN_FORMATS = (*TOOL_FORMATS, "ner-jsonl")


@dataclass(frozen=True)
class Span:
    """A labelled character span (`end` exclusive), the text the annotator saw there and the line it was
    read from, where given."""

    start: int
    end: int
    label: str
    text: str | None = None
    line: int | None = None


@dataclass
class AnnotatedText:
    """A text and its entity spans; `source` and `line` say where it was read (a line, or a task id)."""

    text: str
    spans: list[Span]
    source: str
    line: int | str | None = None
    meta: dict = field(default_factory=dict)


def span_format(path: str | Path) -> str | None:
    """The span format of a file or folder, from its content; None if it is none of them."""
    path = Path(path)
    if path.is_dir():
        return "brat" if any(path.glob("*.ann")) else None
    fmt = format_of(path, ("json", "jsonl"))
    if fmt == "json":
        data = read_json_file(path)
        is_tasks = isinstance(data, list) and data and isinstance(data[0], dict)
        return "label-studio" if is_tasks and "data" in data[0] and "annotations" in data[0] else None
    if fmt is None:
        return None
    for number, line in stream_lines(path):
        if line.strip():
            record = json.loads(line) if line.lstrip().startswith("{") else None
            return jsonl_flavour(record, str(path), number) if isinstance(record, dict) else None
    return None


def jsonl_flavour(record: dict, source: str, line: int) -> str:
    """Which JSONL export a record comes from."""
    if "spans" in record:
        return "spacy"
    if "label" in record or "labels" in record:
        return "doccano"
    entities = record.get("entities")
    if isinstance(entities, list) and entities and isinstance(entities[0], dict):
        return "doccano" if "start_offset" in entities[0] else "ner-jsonl"
    if isinstance(entities, list):
        return "ner-jsonl"
    raise DataFormatError(source, line, 'expected "label", "labels", "entities" or "spans" beside "text"')


def read_annotations(path: str | Path, fmt: str) -> Iterator[AnnotatedText]:
    """The annotated texts of a file (or, for brat, a folder) in a span format."""
    readers: dict[str, Callable[[Path], Iterator[AnnotatedText]]] = {
        "doccano": read_jsonl_spans,
        "spacy": read_jsonl_spans,
        "ner-jsonl": read_jsonl_spans,
        "label-studio": read_label_studio,
        "brat": read_brat,
    }
    if fmt not in readers:
        raise DataFormatError(
            str(path), None, f"unknown span format {fmt!r}; one of {', '.join(SPAN_FORMATS)}"
        )
    yield from readers[fmt](Path(path))


def read_jsonl_spans(path: Path) -> Iterator[AnnotatedText]:
    """doccano, spaCy/Prodigy and `ner predict` JSONL: one text a line with its spans."""
    for number, line in stream_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(str(path), number, f"not valid JSON: {err.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataFormatError(str(path), number, 'expected a JSON object with a "text" string')
        spans = [parse_span(item, str(path), number) for item in span_items(record, str(path), number)]
        yield AnnotatedText(record["text"], spans, str(path), number)


def span_items(record: dict, source: str, line: int) -> list:
    """A JSONL record's list of spans, whichever export wrote it."""
    for key in ("spans", "label", "labels", "entities"):
        if key in record:
            items = record[key]
            if not isinstance(items, list):
                raise DataFormatError(source, line, f'"{key}" must be a list of spans')
            return items
    jsonl_flavour(record, source, line)
    return []


def parse_span(item: object, source: str, line: int | str) -> Span:
    """One span from any export's spelling: [start, end, label], or an object with start/end (or
    start_offset/end_offset) and label (or labels[0]), and text where given."""
    if isinstance(item, list) and len(item) == 3:
        start, end, label, text = item[0], item[1], item[2], None
    elif isinstance(item, dict):
        start = item.get("start", item.get("start_offset"))
        end = item.get("end", item.get("end_offset"))
        labels = item.get("labels")
        label = item.get("label", labels[0] if isinstance(labels, list) and labels else None)
        text = item.get("text")
    else:
        raise DataFormatError(source, line, f"a span must be [start, end, label] or an object, got {item!r}")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str) and label):
        raise DataFormatError(source, line, f"a span needs integer start and end and a label, got {item!r}")
    return Span(start, end, label, text if isinstance(text, str) else None)


def read_label_studio(path: Path) -> Iterator[AnnotatedText]:
    """Label Studio's JSON export: tasks with `data.text` and the first annotation's labelled spans.
    Offsets are code points; an export that counted UTF-16 units (older versions) is recognised by each
    span's `text` and converted."""
    tasks = read_json_file(path)
    if not isinstance(tasks, list):
        raise DataFormatError(str(path), None, "expected a list of Label Studio tasks")
    for position, task in enumerate(tasks):
        where = f"task {task.get('id', position)}" if isinstance(task, dict) else f"task {position}"
        text = task.get("data", {}).get("text") if isinstance(task, dict) else None
        if not isinstance(text, str):
            raise DataFormatError(str(path), where, 'expected "data": {"text": ...}')
        yield AnnotatedText(text, task_spans(task, text, str(path), where) or [], str(path), where)


def task_spans(
    task: dict, text: str, source: str, where: str, from_name: str | None = None
) -> list[Span] | None:
    """The labelled spans of a Label Studio task's first annotation not cancelled (of the control
    `from_name` only, if given), or None if it has none."""
    annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    if not annotations:
        return None
    return [
        from_utf16(text, parse_span(result["value"], source, where))
        for result in annotations[0].get("result") or []
        if isinstance(result, dict)
        and isinstance(result.get("value"), dict)
        and "start" in result["value"]
        and (from_name is None or result.get("from_name") == from_name)
    ]


def from_utf16(text: str, span: Span) -> Span:
    """A span whose offsets count UTF-16 units (its text reads right only that way) in code points."""
    if span.text is None or text[span.start : span.end] == span.text:
        return span
    encoded = text.encode("utf-16-le")
    try:
        start = len(encoded[: 2 * span.start].decode("utf-16-le"))
        end = len(encoded[: 2 * span.end].decode("utf-16-le"))
    except UnicodeDecodeError:
        return span
    return Span(start, end, span.label, span.text, span.line) if text[start:end] == span.text else span


def read_brat(folder: Path) -> Iterator[AnnotatedText]:
    """brat standoff: each NAME.txt with its NAME.ann of `T1<TAB>TYPE START END<TAB>text` lines (offsets
    into the text exactly as stored; discontinuous spans and other annotation kinds are refused or
    ignored)."""
    if not folder.is_dir():
        raise DataFormatError(str(folder), None, "brat data is a folder of NAME.txt and NAME.ann files")
    for text_path in sorted(folder.glob("*.txt")):
        with open(text_path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        ann = text_path.with_suffix(".ann")
        spans = list(brat_spans(ann)) if ann.exists() and ann.stat().st_size else []
        yield AnnotatedText(text, spans, str(ann if ann.exists() else text_path), None)


def brat_spans(path: Path) -> Iterator[Span]:
    """The text-bound annotations (T lines) of a .ann file."""
    for number, line in stream_lines(path):
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        fields = parts[1].split(" ") if len(parts) >= 2 else []
        if len(fields) != 3 or ";" in parts[1]:
            problem = (
                "discontinuous spans are not supported" if ";" in line else "expected T<id> TYPE START END"
            )
            raise DataFormatError(str(path), number, problem)
        label, start, end = fields
        if not (start.isdigit() and end.isdigit()):
            raise DataFormatError(str(path), number, f"offsets must be integers, got {start!r} {end!r}")
        yield Span(int(start), int(end), label, parts[2] if len(parts) > 2 else None, number)
