"""Readers for JSON, CoNLL, token-per-line and raw-text NER files that validate as they read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ner.data_processing.formats import DOCSTART, format_of
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.files import read_json_file, read_lines, stream_lines
from ner.utils.spans import orphan_inside

TAG_PATTERN = re.compile(r"^(O|[BI]-\S+)$")
FORMATS = ("json", "conll", "tokens")


@dataclass
class Sentence:
    """One sentence: its tokens, their tags (None for unlabelled data), global token indices, its
    first line and its document (counted from 0, -DOCSTART- lines between documents; None where a
    file has no -DOCSTART- line)."""

    tokens: list[str]
    tags: list[str] | None
    index: list[str]
    line: int | None = None
    document: int | None = None


@dataclass
class ReadResult:
    """The sentences of one file and what was noticed while reading it."""

    path: str
    sentences: list[Sentence] = field(default_factory=list)
    empty_skipped: int = 0
    truncated: int = 0
    orphan_inside_tags: int = 0

    @property
    def labelled(self) -> bool:
        """Whether the file carries tags."""
        return bool(self.sentences) and self.sentences[0].tags is not None

    @property
    def num_tokens(self) -> int:
        """Number of tokens read."""
        return sum(len(s.tokens) for s in self.sentences)

    def to_columns(self) -> dict[str, list]:
        """Column-oriented data, as `datasets.Dataset.from_dict` takes it."""
        columns: dict[str, list] = {"text": [s.tokens for s in self.sentences]}
        if self.labelled:
            columns["NER"] = [s.tags for s in self.sentences]
        columns["index"] = [s.index for s in self.sentences]
        if any(s.document is not None for s in self.sentences):
            columns["document"] = [s.document for s in self.sentences]
        return columns


def report_reading(data: ReadResult) -> None:
    """Warn about what reading a file changed or noticed."""
    if data.empty_skipped:
        log.print(f"[yellow]warning[/]: {data.path}: skipped {data.empty_skipped} empty sentence(s)")
    if data.truncated:
        log.print(f"[yellow]warning[/]: {data.path}: truncated {data.truncated} over-long sentence(s)")


def raw_format(path: str | Path, fmt: str = "auto") -> str | None:
    """`raw` or `jsonl` if the input is raw text (by `fmt`, or else by its suffix), else None."""
    if fmt in ("raw", "jsonl"):
        return fmt
    return format_of(path, ("raw", "jsonl")) if fmt == "auto" else None


def stream_documents(path: str | Path, fmt: str) -> Iterator[dict]:
    """Raw-text documents, one at a time: `raw`, each non-empty line of a text file as {"text": line};
    `jsonl`, each non-empty line's JSON object, which must hold a "text" string (other fields are kept)."""
    for number, line in stream_lines(path):
        if line.strip():
            yield parse_document(line, fmt, str(path), number)


def parse_document(line: str, fmt: str, name: str, number: int) -> dict:
    """The document of one non-empty input line (`raw` or `jsonl`), its problems named by file and line."""
    if fmt == "raw":
        return {"text": line}
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataFormatError(name, number, f"not valid JSON: {err.msg}") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise DataFormatError(name, number, 'expected a JSON object with a "text" string')
    return record


def check_tag(path: str, line: int | None, tag: str) -> None:
    """Refuse a tag outside the BIO scheme."""
    if not TAG_PATTERN.match(tag):
        raise DataFormatError(path, line, f"tag {tag!r} is not in the BIO scheme (B-TYPE, I-TYPE or O)")


def count_orphan_inside_tags(tags: list[str]) -> int:
    """Number of I-X tags that do not follow B-X or I-X (legal data, but worth counting)."""
    orphans, previous = 0, "O"
    for tag in tags:
        orphans += orphan_inside(previous, tag)
        previous = tag
    return orphans


def finish(result: ReadResult, max_length: int | None) -> ReadResult:
    """Truncate over-long sentences and count orphan I- tags."""
    for sentence in result.sentences:
        if sentence.tags is not None:
            result.orphan_inside_tags += count_orphan_inside_tags(sentence.tags)
        if max_length is not None and len(sentence.tokens) > max_length:
            result.truncated += 1
            sentence.tokens = sentence.tokens[:max_length]
            sentence.index = sentence.index[:max_length]
            if sentence.tags is not None:
                sentence.tags = sentence.tags[:max_length]
    return result


def read_conll(path: str | Path, max_length: int | None = None) -> ReadResult:
    """Read a CoNLL (token ... tag) or token-per-line file; blank lines separate sentences."""
    lines = read_lines(path)
    path = str(path)
    result = ReadResult(path)
    num_columns: int | None = None
    tokens: list[str] = []
    tags: list[str] = []
    start_line = 1
    document, documented = 0, False

    def close_sentence() -> None:
        if tokens:
            first = len(result.sentences) and int(result.sentences[-1].index[-1]) + 1
            index = [str(first + i) for i in range(len(tokens))]
            labels = list(tags) if num_columns and num_columns > 1 else None
            result.sentences.append(Sentence(list(tokens), labels, index, start_line, document))
        tokens.clear()
        tags.clear()

    for number, line in enumerate(lines, start=1):
        columns = line.split()
        if not columns:
            close_sentence()
            start_line = number + 1
            continue
        if columns[0] == DOCSTART:
            close_sentence()
            documented = True
            if result.sentences and result.sentences[-1].document == document:
                document += 1
            start_line = number + 1
            continue
        if num_columns is None:
            num_columns = len(columns)
        elif len(columns) != num_columns:
            raise DataFormatError(
                path,
                number,
                f"expected {num_columns} column(s) as on the file's first token line, found {len(columns)}",
            )
        if not tokens:
            start_line = number
        tokens.append(columns[0])
        if num_columns > 1:
            check_tag(path, number, columns[-1])
            tags.append(columns[-1])
    close_sentence()
    if not result.sentences:
        raise DataFormatError(path, None, "no sentences found")
    if not documented:
        for sentence in result.sentences:
            sentence.document = None
    return finish(result, max_length)


def read_tokens(path: str | Path, max_length: int | None = None) -> ReadResult:
    """Read pre-tokenized text: one sentence a line, tokens separated by whitespace, blank lines skipped."""
    lines = read_lines(path)
    result = ReadResult(str(path))
    position = 0
    for number, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            result.empty_skipped += 1
            continue
        index = [str(position + i) for i in range(len(tokens))]
        position += len(tokens)
        result.sentences.append(Sentence(tokens, None, index, number))
    if not result.sentences:
        raise DataFormatError(str(path), None, "no sentences found")
    return finish(result, max_length)


def read_json(path: str | Path, max_length: int | None = None) -> ReadResult:
    """Read the notebook's JSON format: one object of columns "text", "index" and optionally "NER"."""
    data = read_json_file(path)
    path = str(path)
    if not isinstance(data, dict) or "text" not in data or "index" not in data:
        raise DataFormatError(
            path,
            None,
            'not the notebook\'s JSON shape: expected an object with columns "text", "index" and "NER"',
        )
    unknown = sorted(set(data) - {"text", "index", "NER"})
    if unknown:
        raise DataFormatError(path, None, f"unknown column(s) {unknown}; expected text, index and NER")
    texts, indices, tags = data["text"], data["index"], data.get("NER")
    columns = {"text": texts, "index": indices} | ({"NER": tags} if tags is not None else {})
    for name, column in columns.items():
        if not isinstance(column, list):
            raise DataFormatError(path, None, f'column "{name}" must be a list of sentences')
        if len(column) != len(texts):
            raise DataFormatError(
                path, None, f'column "{name}" has {len(column)} sentences but "text" has {len(texts)}'
            )
    result = ReadResult(path)
    for number in range(len(texts)):
        sentence = _json_sentence(path, number, texts[number], indices[number], tags and tags[number])
        if sentence is None:
            result.empty_skipped += 1
        else:
            result.sentences.append(sentence)
    if not result.sentences:
        raise DataFormatError(path, None, "no sentences found")
    return finish(result, max_length)


def _json_sentence(path: str, number: int, text: object, index: object, tags: object) -> Sentence | None:
    """Validate one JSON sentence; None for an empty one."""
    where = f"sentence {number}"
    columns = {"text": text, "index": index} | ({"NER": tags} if tags is not None else {})
    for name, column in columns.items():
        if not isinstance(column, list):
            raise DataFormatError(path, None, f'{where}: "{name}" must be a list')
        if len(column) != len(text):
            raise DataFormatError(
                path, None, f'{where}: "{name}" has {len(column)} entries but "text" has {len(text)}'
            )
    if not text:
        return None
    if not all(isinstance(token, str) and token for token in text):
        raise DataFormatError(path, None, f"{where}: tokens must be non-empty strings")
    if not all(isinstance(i, (str, int)) and not isinstance(i, bool) and str(i).isdigit() for i in index):
        raise DataFormatError(path, None, f"{where}: index entries must be non-negative integers")
    if tags is not None:
        for tag in tags:
            if not isinstance(tag, str):
                raise DataFormatError(path, None, f"{where}: tags must be strings")
            if not TAG_PATTERN.match(tag):
                raise DataFormatError(
                    path, None, f"{where}: tag {tag!r} is not in the BIO scheme (B-TYPE, I-TYPE or O)"
                )
    return Sentence(list(text), list(tags) if tags is not None else None, [str(i) for i in index])


def detect_format(path: str | Path) -> str:
    """The reader a file needs, from its name: .json, .tokens, or CoNLL for anything else."""
    return format_of(path, ("json", "tokens")) or "conll"


def read_file(path: str | Path, fmt: str = "auto", max_length: int | None = None) -> ReadResult:
    """Read a file of any supported format."""
    fmt = detect_format(path) if fmt == "auto" else fmt
    readers = {"json": read_json, "conll": read_conll, "tokens": read_tokens}
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(readers)}")
    return readers[fmt](path, max_length)
