"""Service benchmark: a live `ner serve` on 127.0.0.1 against the same texts tagged in-process.

    python -m benchmarks.serve RUN_DIR [--corpus ../shared/data/wikineural-en] [--requests 600]
        [--seconds 30] [--workers 2] [--precision float32|bfloat16]

Texts are the corpus's test sentences joined by spaces, one a request. For a service of one worker
process and one of `--workers` processes, and for 1, 8 and 32 concurrent clients (each its own
keep-alive connection): requests/s, tokens/s, p50/p99 latency and failed requests, over at most
`--requests` requests or `--seconds` seconds; the workers' requests/s as a ratio to one worker's. In the
same run, the same texts through the Python API in-process: one call a text (the 1-client comparison)
and `pipe` in batches (the throughput one). Then the same services under wrk (Debian's `wrk`, a load
generator in C: the Python clients above share the machine's CPU with the server and cap what it can
show), and the one-worker server's resident memory after 1,000 and after 10,000 requests in all.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.table import Table

import ner
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability
from ner.utils.console import console

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikineural-en"


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run_dir: str, port: int, workers: int, precision: list[str]) -> subprocess.Popen:
    """`ner serve` with `workers` processes on a port, once it answers /healthz."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "ner.cli", "serve", run_dir, "--port", str(port)),
            *("--max-texts", "256", "--workers", str(workers), *precision),
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


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(url: str, texts: list[str], clients: int, seconds: float) -> dict[str, float] | None:
    """requests/s, p50 and p99 ms and failed requests of wrk (a load generator in C, much lighter on
    the CPU the server shares than Python clients) posting the texts in turn over `clients`
    connections; None where wrk is not installed (Debian's package `wrk`)."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        bodies, script = Path(folder) / "bodies.jsonl", Path(folder) / "post.lua"
        bodies.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
        script.write_text(WRK_SCRIPT % bodies)
        result = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "-s", str(script), f"{url}/v1/entities"],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    count, duration, status, broken, p50, p99 = (int(x) for x in line.split()[1:])
    return {"rate": count / (duration / 1e6), "p50": p50 / 1e3, "p99": p99 / 1e3, "failed": status + broken}


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
    parser.add_argument("--precision", choices=("float32", "bfloat16"), help="default: the run's")
    args = parser.parse_args()
    texts = [" ".join(s.tokens) for s in read_conll(args.corpus / "test.tokens").sentences]
    pipeline = ner.load(args.run_dir)
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
    light = Table(
        title=f"the same services under wrk, {args.seconds:.0f} s a row, CPU capability {cpu_capability()}"
    )
    for column in ("workers", "clients", "requests/s", "x 1 worker", "p50 ms", "p99 ms", "failed"):
        light.add_column(column, justify="right")
    wrk_one_worker: dict[int, float] = {}
    for workers in dict.fromkeys((1, args.workers)):
        port = free_port()
        server = start_server(
            args.run_dir, port, workers, ["--precision", args.precision] if args.precision else []
        )
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
            for clients in (8, 32):
                measured = wrk_load(url, sample, clients, args.seconds)
                if measured is None:
                    break
                wrk_one_worker.setdefault(clients, measured["rate"])
                light.add_row(
                    str(workers),
                    str(clients),
                    f"{measured['rate']:,.0f}",
                    f"{measured['rate'] / wrk_one_worker[clients]:.2f}",
                    f"{measured['p50']:.1f}",
                    f"{measured['p99']:.1f}",
                    str(measured["failed"]),
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
    console.print(
        light if wrk_one_worker else "wrk is not installed (apt-get install wrk): no light-client figures"
    )
    for name, speed in in_process.items():
        console.print(f"in-process API, {name}: {speed:,.0f} tokens/s")


if __name__ == "__main__":
    main()
