"""Reading files: checked paths, UTF-8 lines (BOM and CRLF accepted) and JSON, each problem named by
file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ner.utils.errors import DataFormatError


def check_file(path: str | Path) -> Path:
    """Refuse a path that is missing, a directory, or an empty file."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(str(path), None, "no such file")
    if path.is_dir():
        raise DataFormatError(str(path), None, "is a directory, expected a file")
    if path.stat().st_size == 0:
        raise DataFormatError(str(path), None, "file is empty")
    return path


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file (BOM and CRLF accepted), naming the first line that is not UTF-8."""
    path = check_file(path)
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as err:
            raise DataFormatError(
                str(path), number, f"bytes that are not UTF-8 at column {err.start + 1}"
            ) from None
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def stream_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file read one line at a time (BOM and CRLF accepted)."""
    path = check_file(path)
    with open(path, "rb") as fh:
        yield from decode_lines(fh, str(path))


def decode_lines(lines: Iterable[bytes], name: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of the UTF-8 lines of an open binary file called `name` (BOM and CRLF
    accepted), naming the first line that is not UTF-8."""
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise DataFormatError(
                name, number, f"bytes that are not UTF-8 at column {err.start + 1}"
            ) from None


def read_json_file(path: str | Path) -> object:
    """Parse a UTF-8 JSON file, naming the line of a syntax error."""
    text = "\n".join(read_lines(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFormatError(str(path), err.lineno, f"not valid JSON: {err.msg}") from None
