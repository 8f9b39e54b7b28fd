"""Service benchmark: a live `ner serve` on 127.0.0.1 against the same texts tagged in-process.

    python -m benchmarks.serve RUN_DIR [--corpus ../shared/data/wikineural-en] [--requests 600]
        [--seconds 30] [--workers 2]

Texts are the corpus's test sentences joined by spaces, one a request. For a service of one worker
process and one of `--workers` processes, and for 1, 8 and 32 concurrent clients (each its own
keep-alive connection): requests/s, tokens/s, p50/p99 latency and failed requests, over at most
`--requests` requests or `--seconds` seconds; the workers' requests/s as a ratio to one worker's. In the
same run, the same texts through the Python API in-process: one call a text (the 1-client comparison)
and `pipe` in batches (the throughput one). Then the one-worker server's resident memory after 1,000
and after 10,000 requests in all.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.table import Table

from ner.data_processing.readers import read_conll
from ner.inference.pipeline import Pipeline
from ner.inference.precision import cpu_capability
from ner.utils.console import console

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikineural-en"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: str, port: int, workers: int) -> subprocess.Popen:
    """`ner serve` with `workers` processes on a port, once it answers /healthz."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "ner.cli", "serve", run_dir, "--port", str(port)),
            *("--max-texts", "256", "--workers", str(workers)),
        ],
        cwd=ROOT,
    )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def resident_mib(pid: int) -> float:
    """A process's resident memory in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(
    url: str, texts: list[str], clients: int, limit: int, seconds: float
) -> tuple[int, float, list[float], int]:
    """(requests answered, wall seconds, latencies, failed requests) of `clients` clients sending texts
    in turn."""
    deadline = time.perf_counter() + seconds
    counter = iter(range(limit))

    def client() -> tuple[list[float], int]:
        latencies, failed = [], 0
        with httpx.Client(timeout=60) as http:
            for i in counter:
                if time.perf_counter() > deadline:
                    break
                started = time.perf_counter()
                try:
                    ok = http.post(f"{url}/v1/entities", json={"text": texts[i % len(texts)]}).is_success
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                failed += not ok
        return latencies, failed

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        parts = list(pool.map(lambda _: client(), range(clients)))
    latencies = [x for part, _ in parts for x in part]
    return len(latencies), time.perf_counter() - started, latencies, sum(f for _, f in parts)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (0 < q < 1)."""
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    texts = [" ".join(s.tokens) for s in read_conll(args.corpus / "test.tokens").sentences]
    pipeline = Pipeline.load(args.run_dir)
    tokens = {
        text: len(doc.tokens) for text, doc in zip(texts, pipeline.pipe(texts, batch_size=256), strict=True)
    }
    sample = texts[: args.requests]
    started = time.perf_counter()
    for text in sample:
        pipeline(text)
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    list(pipeline.pipe(sample, batch_size=64))
    batched = time.perf_counter() - started
    sample_tokens = sum(tokens[t] for t in sample)
    table = Table(
        title=f"service on 127.0.0.1 ({args.run_dir}), {len(sample)} texts, {sample_tokens:,} tokens, "
        f"CPU capability {cpu_capability()}"
    )
    columns = ("workers", "clients", "requests", "requests/s", "x 1 worker", "tokens/s", "p50 ms", "p99 ms")
    for column in (*columns, "failed", "vs in-process"):
        table.add_column(column, justify="right")
    in_process = {
        "one call a text": sample_tokens / one_by_one,
        "pipe, batches of 64": sample_tokens / batched,
    }
    one_worker: dict[int, float] = {}
    for workers in dict.fromkeys((1, args.workers)):
        port = free_port()
        server = start_server(args.run_dir, port, workers)
        url = f"http://127.0.0.1:{port}"
        try:
            answered = load(url, texts, 32, 1_000, float("inf"))[0]
            memory = {1_000: resident_mib(server.pid)}
            for clients in (1, 8, 32):
                count, wall, latencies, failed = load(url, sample, clients, args.requests, args.seconds)
                answered += count
                rate = count / wall
                one_worker.setdefault(clients, rate)
                speed = sum(tokens[sample[i % len(sample)]] for i in range(count)) / wall
                reference = in_process["one call a text" if clients == 1 else "pipe, batches of 64"]
                table.add_row(
                    str(workers),
                    str(clients),
                    str(count),
                    f"{rate:,.0f}",
                    f"{rate / one_worker[clients]:.2f}",
                    f"{speed:,.0f}",
                    f"{percentile(latencies, 0.5) * 1000:.1f}",
                    f"{percentile(latencies, 0.99) * 1000:.1f}",
                    str(failed),
                    f"{speed / reference:.2f}",
                )
            if workers == 1:
                load(url, texts, 32, max(0, 10_000 - answered), float("inf"))
                memory[10_000] = resident_mib(server.pid)
                growth = memory[10_000] / memory[1_000] - 1
                console.print(
                    f"one-worker server memory: {memory[1_000]:.0f} MiB after 1,000 requests, "
                    f"{memory[10_000]:.0f} MiB after 10,000 ({growth:+.1%})"
                )
        finally:
            server.terminate()
            server.wait(timeout=60)
    console.print(table)
    for name, speed in in_process.items():
        console.print(f"in-process API, {name}: {speed:,.0f} tokens/s")


if __name__ == "__main__":
    main()
