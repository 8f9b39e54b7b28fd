"""Tagging a corpus of shards on a Ray cluster: Ray Data reads the shards, a pool of actors (each
opening the run once, with its share of a node's cores) tags them, and the driver writes one output
shard per input shard."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import typing
from pathlib import Path

import pyarrow as pa
import ray

from ner.data_processing.formats import format_of
from ner.data_processing.readers import parse_document
from ner.distributed.shards import (
    ERROR,
    LINE,
    OUTPUT,
    OUTPUT_FORMATS,
    PATH,
    RAW,
    ShardSource,
    ShardWriter,
    list_shards,
    output_paths,
)
from ner.inference.opening import open_model
from ner.runtime.doc import Entity, TagSequence
from ner.runtime.folder import pack, unpacked
from ner.runtime.pipeline import TEXTS_PER_CHUNK, Pipeline
from ner.utils.console import log
from ner.utils.errors import DataFormatError, NerError

ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), list[str]: pa.list_(pa.string())}


def arrow_struct(record: type) -> pa.DataType:
    """The Arrow struct of a dataclass of the tagged-document schema, field by field."""
    hints = typing.get_type_hints(record)
    return pa.struct([(f.name, ARROW_TYPES[hints[f.name]]) for f in dataclasses.fields(record)])


ENTITY_TYPE = pa.list_(arrow_struct(Entity))
NBEST_TYPE = pa.list_(pa.list_(arrow_struct(TagSequence)))


class ShardTagger:
    """A Ray actor that opens the run once and tags batches of shard rows."""

    def __init__(self, package: ray.ObjectRef, options: dict, threads: int, output_format: str, nbest: int):
        with unpacked(ray.get(package)) as model:
            self.pipeline = Pipeline(open_model(model, threads=threads, **options))
        self.output_format = output_format
        self.nbest = nbest

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The batch's rows tagged: the shard and line kept, an error for each row that could not be read,
        and the record with its entities (a JSON line, or Parquet columns)."""
        paths, lines = batch.column(PATH).to_pylist(), batch.column(LINE).to_pylist()
        records, errors = self._records(batch, paths, lines)
        readable = [i for i, error in enumerate(errors) if error is None]
        docs = self.pipeline.process([records[i]["text"] for i in readable], self.nbest)
        found: list[dict | None] = [None] * len(records)
        for i, doc in zip(readable, docs, strict=True):
            found[i] = doc.found()
        columns = {PATH: paths, LINE: lines, ERROR: pa.array(errors, pa.string())}
        if self.output_format == "jsonl":
            output = [
                "" if entry is None else json.dumps(record | entry, ensure_ascii=False, default=str) + "\n"
                for record, entry in zip(records, found, strict=True)
            ]
            return pa.table(columns | {OUTPUT: output})
        table = (
            pa.Table.from_pylist(records) if RAW in batch.column_names else batch.drop_columns([PATH, LINE])
        )
        entities = pa.array([None if f is None else f["entities"] for f in found], ENTITY_TYPE)
        added = columns | {"entities": entities}
        if self.nbest:
            added["nbest"] = pa.array([None if f is None else f["nbest"] for f in found], NBEST_TYPE)
        for name, values in added.items():
            table = table.append_column(name, values if isinstance(values, pa.Array) else pa.array(values))
        return table

    @staticmethod
    def _records(batch: pa.Table, paths: list[str], lines: list[int]) -> tuple[list[dict], list[str | None]]:
        """Each row's input record, or the reason it is not one."""
        if RAW not in batch.column_names:
            records = batch.drop_columns([PATH, LINE]).to_pylist()
            errors = [None if isinstance(r.get("text"), str) else 'expected a "text" string' for r in records]
            return records, errors
        records, errors = [], []
        for raw, path, line in zip(batch.column(RAW).to_pylist(), paths, lines, strict=True):
            fmt = format_of(path, ("raw",)) or "jsonl"
            try:
                records.append(parse_document(raw, fmt, path, line))
                errors.append(None)
            except DataFormatError as err:
                records.append({"text": ""})
                errors.append(err.problem)
        return records, errors


def start_ray(address: str | None) -> None:
    """Join the Ray cluster at `address` ('auto': the one this machine belongs to; None: RAY_ADDRESS's,
    else a new one on this machine)."""
    # No network at run time: Ray's usage statistics (and Ray Data's background queries for them) stay
    # off unless the user turns them on.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return
    settings = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        ray.init(address=address, **settings)
    except ConnectionError as err:
        raise NerError(f"--ray {address}: no Ray cluster there ({err})") from None


def cluster_workers(cpus_per_worker: float) -> int:
    """How many actors of `cpus_per_worker` CPUs the cluster's CPUs hold (at least one)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker))


def tag_corpus(
    run_dir: str | Path,
    shards: str | Path,
    output_dir: str | Path,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: float = 1,
    output_format: str = "jsonl",
    nbest: int = 0,
    progress: bool = True,
    **options: object,
) -> list[str]:
    """Tag every shard not yet tagged into `output_dir` on a Ray cluster with `workers` actors (default:
    as many as the cluster's CPUs hold); returns the shards written. `options` go to `open_model`."""
    if output_format not in OUTPUT_FORMATS:
        raise NerError(f"--output-format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}")
    if Path(output_dir).exists() and not Path(output_dir).is_dir():
        raise NerError(f"{output_dir}: is a file; --ray writes one output per shard into a folder")
    package = pack(run_dir, options.pop("epoch", None))
    inputs = list_shards(shards)
    targets = output_paths(inputs, Path(output_dir), output_format)
    todo = {shard: target for shard, target in targets.items() if not target.exists()}
    if len(todo) < len(targets):
        log.print(f"{len(targets) - len(todo)} of {len(targets)} shards already tagged; skipping them")
    if not todo:
        return []
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    start_ray(address)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    size = workers or cluster_workers(cpus_per_worker)
    threads = max(1, int(cpus_per_worker))
    # Reading is light next to tagging; asking no CPU for it keeps every core for the actors, which
    # would otherwise hold them all and leave the reads waiting forever.
    dataset = ray.data.read_datasource(ShardSource([str(p) for p in todo]), num_cpus=0).map_batches(
        ShardTagger,
        fn_constructor_args=(ray.put(package), options, threads, output_format, nbest),
        batch_size=TEXTS_PER_CHUNK,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=cpus_per_worker,
    )
    writer = ShardWriter(todo, output_format)
    started = time.monotonic()
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            writer.write(batch)
        written = writer.close()
    except BaseException:
        writer.abort()
        raise
    log.print(
        f"tagged {len(written)} shards with {size} Ray workers in {time.monotonic() - started:.1f} s "
        f"-> {output_dir}"
    )
    return written
