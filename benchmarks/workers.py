"""Where worker processes start to pay: `ner predict` of raw-text files of growing size with one process
and with every core (`--workers N`), each in a new process, interleaved, the best of `--rounds`.

    python -m benchmarks.workers RUN_DIR [--corpus ../shared/data/wikineural-en]
        [--sizes 0.5 1 2 4 8] [--rounds 2]

Texts: the corpus's test sentences (`test.tokens`) detokenized, 8 to a paragraph, as JSON lines,
repeated up to each size in MB. Prints each size's wall seconds with one process and with all cores,
their ratio, and the smallest size from which all cores were faster at that size and every larger one:
the rule `--workers auto` follows (`ner.workflows.raw_text.AUTO_WORKERS_BYTES`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.predict import DATA, paragraphs
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability
from ner.runtime.workers import available_cores
from ner.workflows.raw_text import AUTO_WORKERS_BYTES


def write_input(folder: Path, texts: list[str], megabytes: float) -> Path:
    """A JSON-lines file of `texts`, repeated until it holds `megabytes` MB."""
    lines = [json.dumps({"text": t}) + "\n" for t in texts]
    path = folder / f"{megabytes:g}mb.jsonl"
    written, target = [], int(megabytes * 1_000_000)
    size = 0
    while size < target:
        line = lines[len(written) % len(lines)]
        written.append(line)
        size += len(line.encode("utf-8"))
    path.write_text("".join(written), encoding="utf-8")
    return path


def wall_seconds(run_dir: str, source: Path, workers: int) -> float:
    """Seconds `ner predict` takes on `source` with `workers` processes, start-up included."""
    output = source.with_suffix(f".out{workers}.jsonl")
    command = [sys.executable, "-m", "ner.cli", "predict", "--experiment", run_dir, "--input", str(source)]
    start = time.perf_counter()
    subprocess.run([*command, "--output", str(output), "--workers", str(workers)], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = available_cores()
    texts = paragraphs([s.tokens for s in read_conll(args.corpus / "test.tokens").sentences])
    print(
        f"CPU capability {cpu_capability()}, {cores} cores; auto now starts workers from {AUTO_WORKERS_BYTES:,} bytes"
    )
    faster = []
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in args.sizes:
            source = write_input(Path(tmp), texts, megabytes)
            best = {1: float("inf"), cores: float("inf")}
            for _ in range(args.rounds):
                for workers in best:
                    best[workers] = min(best[workers], wall_seconds(args.run_dir, source, workers))
            speedup = best[1] / best[cores]
            faster.append((megabytes, speedup > 1))
            print(
                f"{megabytes:5g} MB: 1 process {best[1]:6.1f} s, {cores} workers {best[cores]:6.1f} s, {speedup:.2f}x"
            )
    paying = [m for i, (m, _) in enumerate(faster) if all(ok for _, ok in faster[i:])]
    print(
        f"all cores faster from {paying[0]:g} MB on"
        if paying
        else "all cores never faster at every larger size"
    )


if __name__ == "__main__":
    main()
