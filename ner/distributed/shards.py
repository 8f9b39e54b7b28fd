"""A corpus as shards: the input files a glob, folder or file names, read by Ray Data with each record's
shard and line kept, and one output file per shard written whole or not at all."""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from ray.data.datasource import FileBasedDatasource

from ner.data_processing.formats import file_name, format_of, listed, suffixes
from ner.utils.errors import DataFormatError, NerError
from ner.utils.files import decode_lines
from ner.utils.io import atomic_path

SHARD_FORMATS = ("jsonl", "raw", "parquet")
SHARD_SUFFIXES = suffixes(*SHARD_FORMATS)
OUTPUT_FORMATS = ("jsonl", "parquet")
PATH, LINE, ERROR, RAW, OUTPUT = "__path", "__line", "__error", "__raw", "__output"
BLOCK_ROWS = 2000


def list_shards(spec: str | Path) -> list[Path]:
    """The shards a file, a folder (its .jsonl, .txt and .parquet files) or a glob names, sorted; all
    of one format."""
    spec = str(spec)
    if any(c in spec for c in "*?["):
        found = [Path(p) for p in glob.glob(spec, recursive=True)]
    elif Path(spec).is_dir():
        found = [p for p in Path(spec).iterdir() if p.suffix.lower() in SHARD_SUFFIXES]
    elif Path(spec).is_file():
        found = [Path(spec)]
    else:
        raise NerError(f"{spec}: no such file, folder or glob match")
    shards = sorted(p for p in found if p.is_file())
    if not shards:
        raise NerError(f"{spec}: no {listed(*SHARD_FORMATS)} shards there")
    kinds = {p.suffix.lower() for p in shards}
    if not kinds <= set(SHARD_SUFFIXES):
        odd = sorted(kinds - set(SHARD_SUFFIXES))
        raise NerError(f"{spec}: shards must be {listed(*SHARD_FORMATS)}, not {', '.join(odd)}")
    if len(kinds) > 1:
        raise NerError(f"{spec}: shards mix {', '.join(sorted(kinds))}; tag one format at a time")
    return shards


def output_paths(shards: list[Path], output_dir: Path, output_format: str) -> dict[Path, Path]:
    """Each shard's output file under `output_dir`, named after it."""
    targets = {shard: output_dir / file_name(shard.stem, output_format) for shard in shards}
    seen: dict[Path, Path] = {}
    for shard, target in targets.items():
        if target in seen:
            raise NerError(f"{seen[target]} and {shard} would both be written to {target}; rename one")
        seen[target] = shard
    return targets


def binary_lines(f: pa.NativeFile, size: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a binary stream, each with its newline (the last may have none)."""
    rest = b""
    while chunk := f.read(size):
        *lines, rest = (rest + chunk).split(b"\n")
        yield from (line + b"\n" for line in lines)
    if rest:
        yield rest


class ShardSource(FileBasedDatasource):
    """Ray Data source of shards whose rows keep their shard (`__path`) and line or row number
    (`__line`): text and JSON-lines shards as their non-empty lines (`__raw`), Parquet shards as their
    columns. Lines are split and decoded as `ner predict` reads a file, so errors name the same line."""

    def _read_stream(self, f: pa.NativeFile, path: str) -> Iterator[pa.Table]:
        """The shard's rows, `BLOCK_ROWS` at a time, so one shard can feed several workers."""
        if format_of(path, ("parquet",)):
            yield from self._parquet_blocks(f, path)
            return
        paths, numbers, lines = [], [], []
        for number, line in decode_lines(binary_lines(f), path):
            if line.strip():
                paths.append(path)
                numbers.append(number)
                lines.append(line)
            if len(lines) == BLOCK_ROWS:
                yield pa.table({PATH: paths, LINE: numbers, RAW: lines})
                paths, numbers, lines = [], [], []
        if lines:
            yield pa.table({PATH: paths, LINE: numbers, RAW: lines})

    @staticmethod
    def _parquet_blocks(f: pa.NativeFile, path: str) -> Iterator[pa.Table]:
        """A Parquet shard's record batches, each row numbered from 1."""
        shard = pq.ParquetFile(pa.BufferReader(f.readall()))
        if "text" not in shard.schema_arrow.names:
            raise DataFormatError(path, None, 'no "text" column')
        first = 1
        for batch in shard.iter_batches(batch_size=BLOCK_ROWS):
            table = pa.Table.from_batches([batch])
            numbers = pa.array(range(first, first + len(table)), pa.int64())
            first += len(table)
            yield table.append_column(PATH, pa.array([path] * len(table))).append_column(LINE, numbers)


class ShardWriter:
    """Writes tagged rows, which arrive shard by shard in input order, into each shard's output file;
    a file appears only once its shard is complete. A row with an error stops the writing with it."""

    def __init__(self, targets: dict[Path, Path], output_format: str):
        self.targets = {str(shard): target for shard, target in targets.items()}
        self.output_format = output_format
        self.current: str | None = None
        self.finished: list[str] = []
        self._stack = contextlib.ExitStack()
        self._sink: object | None = None

    def write(self, table: pa.Table) -> None:
        """Write a batch of tagged rows (each row's shard in `__path`); the shards before a row with an
        error are finished, its own is not."""
        paths = table.column(PATH).to_pylist()
        start = 0
        for end in range(1, len(paths) + 1):
            if end == len(paths) or paths[end] != paths[start]:
                self._switch_to(paths[start])
                rows = table.slice(start, end - start)
                self._raise_first_error(rows)
                self._append(rows)
                start = end

    def close(self) -> list[str]:
        """Finish the last shard and write an empty output for shards that held no document; returns
        the shards written."""
        self._finish()
        for shard in self.targets:
            if shard not in self.finished:
                self._switch_to(shard)
                self._finish()
        return self.finished

    def abort(self) -> None:
        """Drop the shard being written; the shards finished before stay."""
        self._stack.__exit__(NerError, NerError("aborted"), None)
        self._sink = None

    @staticmethod
    def _raise_first_error(table: pa.Table) -> None:
        """A DataFormatError for the first row that could not be read, if any."""
        errors = table.column(ERROR)
        if errors.null_count == len(table):
            return
        row = next(i for i, e in enumerate(errors.to_pylist()) if e is not None)
        raise DataFormatError(
            table.column(PATH)[row].as_py(), table.column(LINE)[row].as_py(), errors[row].as_py()
        )

    def _switch_to(self, shard: str) -> None:
        """Make `shard` the one being written."""
        if shard == self.current:
            return
        if shard in self.finished:
            raise NerError(f"{shard}: its rows came back out of order; nothing more was written")
        self._finish()
        self.current = shard
        self._tmp = self._stack.enter_context(atomic_path(self.targets[shard]))

    def _append(self, table: pa.Table) -> None:
        """Append tagged rows to the current shard's file."""
        if self.output_format == "jsonl":
            if self._sink is None:
                self._sink = self._stack.enter_context(open(self._tmp, "w", encoding="utf-8"))
            self._sink.write("".join(table.column(OUTPUT).to_pylist()))
            return
        records = table.drop_columns([PATH, LINE, ERROR])
        if self._sink is None:
            self._sink = self._stack.enter_context(pq.ParquetWriter(self._tmp, records.schema))
        try:
            self._sink.write_table(records.cast(self._sink.schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as err:
            raise DataFormatError(
                self.current, table.column(LINE)[0].as_py(), f"fields unlike the shard's first rows: {err}"
            ) from None

    def _finish(self) -> None:
        """Complete the current shard's file (an empty shard gives an empty file)."""
        if self.current is None:
            return
        if self._sink is None and self.output_format == "parquet":
            pq.write_table(pa.table({"text": pa.array([], pa.string())}), self._tmp)
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self._sink = None
        self.finished.append(self.current)
        self.current = None
