"""Service benchmark: a live `ner serve` on 127.0.0.1 against the same texts tagged in-process.

    python -m benchmarks.serve RUN_DIR [--corpus ../shared/data/wikineural-en] [--requests 600]
        [--seconds 30]

Texts are the corpus's test sentences joined by spaces, one a request. For 1, 8 and 32 concurrent
clients (each its own keep-alive connection): requests/s, tokens/s and p50/p99 latency, over at most
`--requests` requests or `--seconds` seconds. In the same run, the same texts through the Python API
in-process: one call a text (the 1-client comparison) and `pipe` in batches (the throughput one); the
service's overhead is printed as ratios. Then the server's resident memory after 1,000 and after
10,000 requests in all.
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
from ner.utils.console import console

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikineural-en"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: str, port: int) -> subprocess.Popen:
    """`ner serve` on a port, once it answers /healthz."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ner.cli", "serve", run_dir, "--port", str(port), "--max-texts", "256"],
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
) -> tuple[int, float, list[float]]:
    """(requests answered, wall seconds, latencies) of `clients` clients sending texts in turn."""
    deadline = time.perf_counter() + seconds
    counter = iter(range(limit))

    def client() -> list[float]:
        latencies = []
        with httpx.Client(timeout=60) as http:
            for i in counter:
                if time.perf_counter() > deadline:
                    break
                started = time.perf_counter()
                response = http.post(f"{url}/v1/entities", json={"text": texts[i % len(texts)]})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = [x for part in pool.map(lambda _: client(), range(clients)) for x in part]
    return len(latencies), time.perf_counter() - started, latencies


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
    port = free_port()
    server = start_server(args.run_dir, port)
    url = f"http://127.0.0.1:{port}"
    table = Table(
        title=f"service on 127.0.0.1 ({args.run_dir}), {len(sample)} texts, {sample_tokens:,} tokens"
    )
    for column in ("clients", "requests", "requests/s", "tokens/s", "p50 ms", "p99 ms", "vs in-process"):
        table.add_column(column, justify="right")
    in_process = {
        "one call a text": sample_tokens / one_by_one,
        "pipe, batches of 64": sample_tokens / batched,
    }
    try:
        answered, _, _ = load(url, texts, 32, 1_000, float("inf"))
        memory = {1_000: resident_mib(server.pid)}
        for clients in (1, 8, 32):
            count, wall, latencies = load(url, sample, clients, args.requests, args.seconds)
            answered += count
            speed = sum(tokens[sample[i % len(sample)]] for i in range(count)) / wall
            reference = in_process["one call a text" if clients == 1 else "pipe, batches of 64"]
            table.add_row(
                str(clients),
                str(count),
                f"{count / wall:,.0f}",
                f"{speed:,.0f}",
                f"{percentile(latencies, 0.5) * 1000:.1f}",
                f"{percentile(latencies, 0.99) * 1000:.1f}",
                f"{speed / reference:.2f}",
            )
        console.print(table)
        for name, speed in in_process.items():
            console.print(f"in-process API, {name}: {speed:,.0f} tokens/s")
        load(url, texts, 32, max(0, 10_000 - answered), float("inf"))
        memory[10_000] = resident_mib(server.pid)
        growth = memory[10_000] / memory[1_000] - 1
        console.print(
            f"server memory: {memory[1_000]:.0f} MiB after 1,000 requests, {memory[10_000]:.0f} MiB after "
            f"10,000 ({growth:+.1%})"
        )
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
