"""Scale-out benchmark: tagging on Ray against `ner predict --workers`, and data-parallel training.

    python -m benchmarks.scale RUN_DIR [--corpus ../shared/data/wikineural-en] [--copies 8]
        [--dataset artefacts/dataset --tokenizer artefacts/tokenizer/rnn.json --preset glove-bilstm-crf]
        [--skip-training]

Tagging: the corpus's test sentences detokenized, 8 to a paragraph, as raw-text JSON lines, once (1x)
and `--copies` times (8x), tagged by `ner predict` in a new process each time: one process; `--workers
2`; `--ray` with 1 and with 2 Ray workers of 1 CPU each (a local cluster started by the command; the 8x
input as `--copies` shards). Each: wall seconds, tokens/s (whitespace tokens of the input over the
wall time), tokens/s with the command's start-up taken out (the wall time of the same command on one
document), and the peak private resident memory (RSS less shared memory, polled every 50 ms) of the
process that tags, or of the largest worker.
Training: one epoch of `--preset` on `--dataset` with 1 process (batch 64) and with `--nproc 2`
(batch 32 each: the same global batch), the seconds the run prints for the epoch's training. Then a
projection of the time to tag 1M and 100M sentences on N machines of this kind from the measured rate per Ray
worker, stated as a projection. Every figure is printed beside this CPU's capability and core count.
Needs the `distributed` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.table import Table

from benchmarks.predict import DATA, paragraphs
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability
from ner.runtime.workers import available_cores
from ner.utils.console import console

ROOT = Path(__file__).resolve().parents[1]


def process_tree(root: int) -> dict[int, str]:
    """Every live process under `root` (itself included), with its command line."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            tree[pid] = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        todo.extend(parents.get(pid, []))
    return tree


def private_kib(pid: int) -> int | None:
    """A process's resident memory now, less what it maps of shared memory (Ray's object store, which
    every worker on a machine maps and Ray bounds as one pool), in KiB."""
    fields = {}
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssShmem"):
                fields[key] = int(value.split()[0])
    except (OSError, ValueError):
        return None
    return fields["VmRSS"] - fields.get("RssShmem", 0) if "VmRSS" in fields else None


class MemoryWatch:
    """Polls a command's process tree every 50 ms and keeps each process's peak private memory and its
    command line."""

    def __init__(self, root: int):
        self.root = root
        self.peaks: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            for pid, name in process_tree(self.root).items():
                peak = private_kib(pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), peak)
                    self.names[pid] = name
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def worker_peak_mib(self, kind: str) -> float:
        """The peak memory of the process that tags (`one`), or of the largest worker (`workers`: a
        process forked by the forkserver; `ray`: a Ray Data map actor)."""
        if kind == "one":
            pids = [self.root]
        else:
            # Ray names its map actors' processes; --workers' processes fork from the forkserver and
            # keep its command line (the server itself, never the largest, is among them).
            mark = "MapWorker" if kind == "ray" else "forkserver"
            pids = [p for p, n in self.names.items() if mark in n]
        return max(self.peaks.get(p, 0) for p in pids) / 1024 if pids else float("nan")


def timed_command(args: list[str], kind: str) -> tuple[float, float, str]:
    """Wall seconds, the tagging process's (or largest worker's) peak MiB and the log of a `ner`
    command."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ner.cli", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    watch = MemoryWatch(process.pid)
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    watch.stop()
    if process.returncode != 0:
        raise SystemExit(f"ner {' '.join(args)} failed:\n{err.decode()[-3000:]}")
    return seconds, watch.worker_peak_mib(kind), err.decode()


def write_inputs(folder: Path, texts: list[str], copies: int) -> dict[str, Path]:
    """The texts as one document, 1x and `copies`x single files, and `copies` shards of 1x each."""
    lines = [json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)]
    paths = {"one": folder / "one.jsonl", "1x": folder / "x1.jsonl", "Nx": folder / "xN.jsonl"}
    paths["one"].write_text(lines[0])
    paths["1x"].write_text("".join(lines))
    paths["Nx"].write_text("".join(lines) * copies)
    for name, count in (("shards-1x", 1), ("shards-one", 1), ("shards-Nx", copies)):
        shard_dir = folder / name
        shard_dir.mkdir()
        for n in range(count):
            (shard_dir / f"part-{n}.jsonl").write_text(lines[0] if name == "shards-one" else "".join(lines))
        paths[name] = shard_dir
    return paths


def tagging(run: str, texts: list[str], copies: int) -> tuple[Table, dict[str, float]]:
    """Tagging figures: one process, --workers 2, Ray with 1 and 2 workers, at 1x and `copies`x."""
    tokens = sum(len(t.split()) for t in texts)
    setups = {
        "one process": (["--workers", "1"], "one", False),
        "--workers 2": (["--workers", "2"], "workers", False),
        "Ray, 1 worker": (["--ray", "--workers", "1"], "ray", True),
        "Ray, 2 workers": (["--ray", "--workers", "2"], "ray", True),
    }
    table = Table(title=f"Tagging raw text ({tokens:,} tokens at 1x; {capability()})")
    for column in (
        "setup",
        "input",
        "wall s",
        "tokens/s",
        "start-up s",
        "tokens/s after start-up",
        "peak MiB",
    ):
        table.add_column(column, justify="left" if column in ("setup", "input") else "right")
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_inputs(folder, texts, copies)
        for name, (flags, kind, ray) in setups.items():
            peaks = {}
            startup = timed_command(command(run, paths, "one", folder, flags, ray), kind)[0]
            for size, count in (("1x", 1), ("Nx", copies)):
                seconds, peaks[size], _ = timed_command(command(run, paths, size, folder, flags, ray), kind)
                rate = tokens * count / seconds
                steady = tokens * count / max(seconds - startup, 1e-9)
                label = "1x" if count == 1 else f"{copies}x"
                table.add_row(
                    name,
                    label,
                    f"{seconds:.1f}",
                    f"{rate:,.0f}",
                    f"{startup:.1f}",
                    f"{steady:,.0f}",
                    f"{peaks[size]:.0f}",
                )
                if count == copies:
                    rates[name] = steady
            table.add_row(name, f"{copies}x / 1x", "", "", "", "", f"{peaks['Nx'] / peaks['1x']:.2f}x")
    return table, rates


def command(
    run: str, paths: dict[str, Path], size: str, folder: Path, flags: list[str], ray: bool
) -> list[str]:
    """The `ner predict` command of one measurement (a fresh output each time)."""
    source = paths[f"shards-{size}"] if ray else paths[size]
    output = Path(tempfile.mkdtemp(dir=folder)) / ("out" if ray else "out.jsonl")
    return ["predict", "--experiment", run, "--input", str(source), "--output", str(output), *flags]


def training(dataset: str, tokenizer: str, preset: str) -> tuple[Table, float]:
    """One epoch's seconds with 1 process (batch 64) and 2 processes (batch 32 each)."""
    table = Table(title=f"One training epoch of {preset}, global batch 64 ({capability()})")
    for column in ("processes", "batch per process", "epoch s", "ratio to 1 process", "val entity F1"):
        table.add_column(column, justify="right")
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nproc in (1, 2):
            run = Path(tmp) / f"run{nproc}"
            args = ["train", "--dataset", dataset, "--tokenizer", tokenizer, "--preset", preset]
            args += ["--output", str(run), "--no-progress", "--nproc", str(nproc)]
            args += [
                "--set",
                "train_and_eval.num_epochs=1",
                "--set",
                f"train_and_eval.batch_size={64 // nproc}",
            ]
            log = timed_command(args, "one")[2]
            val = json.loads((run / "best.json").read_text())["value"]
            seconds[nproc] = float(re.search(r"epoch 1/1 \(([\d.]+) s\)", log).group(1))
            table.add_row(
                str(nproc),
                str(64 // nproc),
                f"{seconds[nproc]:.1f}",
                f"{seconds[nproc] / seconds[1]:.2f}x",
                f"{val:.4f}",
            )
    return table, seconds[2] / seconds[1]


def projection(rate_per_worker: float, tokens_per_sentence: float, workers_per_node: int) -> Table:
    """Hours to tag 1M and 100M sentences on N machines like this one, from the measured rate."""
    table = Table(
        title=f"Projection (not measured): {rate_per_worker:,.0f} tokens/s per Ray worker, "
        f"{workers_per_node} workers a machine, {tokens_per_sentence:.1f} tokens a sentence"
    )
    table.add_column("sentences", justify="right")
    for nodes in (1, 10, 100):
        table.add_column(f"{nodes} machine{'s' if nodes > 1 else ''}", justify="right")
    for sentences in (1_000_000, 100_000_000):
        cells = []
        for nodes in (1, 10, 100):
            hours = sentences * tokens_per_sentence / (rate_per_worker * workers_per_node * nodes) / 3600
            cells.append(f"{hours:,.2f} h")
        table.add_row(f"{sentences:,}", *cells)
    return table


def capability() -> str:
    """The CPU capability and core count the figures were measured with."""
    return f"CPU {cpu_capability()}, {available_cores()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="a run folder written by `ner train`")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--dataset", default="artefacts/dataset")
    parser.add_argument("--tokenizer", default="artefacts/tokenizer/rnn.json")
    parser.add_argument("--preset", default="glove-bilstm-crf")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-tagging", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    sentences = [s.tokens for s in read_conll(args.corpus / "test.tokens").sentences]
    texts = paragraphs(sentences)
    if not args.skip_tagging:
        table, rates = tagging(args.run, texts, args.copies)
        console.print(table)
        ray_one, ray_two = rates["Ray, 1 worker"], rates["Ray, 2 workers"]
        console.print(
            f"Ray: 2 workers tag at {ray_two / ray_one:.2f}x one worker's tokens/s (after start-up)"
        )
        per_sentence = sum(len(s) for s in sentences) / len(sentences)
        console.print(projection(ray_two / 2, per_sentence, available_cores()))
    if not args.skip_training:
        table, ratio = training(args.dataset, args.tokenizer, args.preset)
        console.print(table)
        console.print(f"Training: 2 processes take {ratio:.2f}x one process's epoch time")


if __name__ == "__main__":
    main()
