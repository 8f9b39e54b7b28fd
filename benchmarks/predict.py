"""Prediction benchmark: trained runs and their ONNX exports against spaCy's `nlp.pipe` on the same
texts, in one process.

    python -m benchmarks.predict RUN_OR_EXPORT [RUN_OR_EXPORT ...] [--corpus ../shared/data/wikineural-en]
        [--rounds 3] [--workers 2] [--repeat 4] [--skip-workers] [--texts N]

Each argument is a run folder (tagged with torch) or a folder written by `ner export` (tagged with ONNX
Runtime and numpy, float32 or int8 as exported); both run on this process's threads (torch's thread
count; ONNX Runtime's sessions take every core the process may use, the same number here). The last
table gives the install size of the runtime (`ner[runtime]`, no torch) against the full install.

Texts: the corpus's test sentences detokenized, 8 to a paragraph. For each run, in the precision its
config asks for (as the CPU probe decides it): validation entity F1 (pre-tokenized), raw text ->
entities with span probabilities through `ner.load(run).pipe` (tokens/s), pre-tokenized sentences ->
tags through the run's Predictor (tokens/s), and the raw texts repeated `--repeat` times through
`pipe(n_process=1)` against `pipe(n_process=--workers)` (worker start-up included). spaCy: a
blank-English pipeline with its NER trained for one epoch on the train split (its speed does not depend
on how well it is trained), on the same raw texts (`nlp.pipe`) and the same sentences (pre-tokenized
Docs). Then the cold start: `ner predict` of one sentence in a new process, wall seconds. Every figure is
printed beside this CPU's capability and thread count; best of `--rounds` rounds, systems interleaved.
Needs the `bench` extra (pip install -e ".[bench]").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.table import Table

import ner
from benchmarks.install import ALL_EXTRAS, size_table
from benchmarks.peers import SpacyPeer, score, timed
from benchmarks.raw_text import detokenize
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability
from ner.runtime.pipeline import Pipeline
from ner.utils.console import console

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wikineural-en"


def split(corpus: Path, name: str) -> tuple[list[list[str]], list[list[str]]]:
    """Tokens and tags of a CoNLL split."""
    result = read_conll(corpus / f"{name}.conll")
    return [s.tokens for s in result.sentences], [s.tags for s in result.sentences]


def paragraphs(sentences: list[list[str]], size: int = 8) -> list[str]:
    """Sentences detokenized, `size` to a paragraph."""
    return [detokenize(sentences[i : i + size])[0].replace("\n", " ") for i in range(0, len(sentences), size)]


def best_seconds(systems: dict, rounds: int) -> dict[str, float]:
    """Each system's fastest of `rounds` calls, the systems interleaved round by round."""
    seconds = dict.fromkeys(systems, float("inf"))
    for _ in range(rounds):
        for name, run in systems.items():
            seconds[name] = min(seconds[name], timed(run)[1])
    return seconds


def cold_start(run: str, text: str) -> float:
    """Wall seconds of `ner predict` tagging one sentence in a new process."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "one.txt"
        source.write_text(text + "\n")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ner.cli",
                "predict",
                "--experiment",
                run,
                "--input",
                str(source),
                "--output",
                str(Path(folder) / "one.jsonl"),
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="run folders written by `ner train` or `ner export`")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=4, help="how many times the texts go through the workers"
    )
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--texts", type=int, help="use only the first N texts (default: all)")
    args = parser.parse_args()
    sentences = [s.tokens for s in read_conll(args.corpus / "test.tokens").sentences]
    texts = paragraphs(sentences)[: args.texts]
    sentences = sentences[: 8 * len(texts)]
    val_tokens, val_tags = split(args.corpus, "val")
    spacy = SpacyPeer(max_epochs=1)
    spacy.fit(*split(args.corpus, "train"))
    pipelines = {Path(run).name: ner.load(run) for run in args.runs}
    counts = {
        name: sum(len(d.tokens) for d in p.pipe(texts, batch_size=256)) for name, p in pipelines.items()
    }
    counts["spaCy"] = sum(len(doc) for doc in spacy.nlp.pipe(texts, batch_size=256))
    raw = {name: (lambda p=p: list(p.pipe(texts, batch_size=256))) for name, p in pipelines.items()}
    raw["spaCy"] = lambda: list(spacy.nlp.pipe(texts, batch_size=256))
    tokenized = {name: (lambda p=p: p.model.predictor.tag(sentences)) for name, p in pipelines.items()}
    tokenized["spaCy"] = lambda: spacy.predict(sentences)
    raw_seconds = best_seconds(raw, args.rounds)
    tokenized_seconds = best_seconds(tokenized, args.rounds)
    num_tokens = sum(len(s) for s in sentences)
    heading = f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads"
    table = Table(title=f"{len(texts):,} texts ({num_tokens:,} test tokens), {heading}")
    columns = (
        "system",
        "precision",
        "val weighted F1",
        "raw text tokens/s",
        "x spaCy",
        "tokenized tokens/s",
        "x spaCy",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("system", "precision") else "right")
    spacy_raw = counts["spaCy"] / raw_seconds["spaCy"]
    spacy_tokenized = num_tokens / tokenized_seconds["spaCy"]
    for name in raw:
        speed_raw = counts[name] / raw_seconds[name]
        speed_tokenized = num_tokens / tokenized_seconds[name]
        if name in pipelines:
            run = pipelines[name].model
            f1 = f"{score(val_tags, run.predictor.tag(val_tokens), run.labels)['weighted']:.4f}"
            precision = run.predictor.precision
        else:
            f1, precision = "-", "-"
        table.add_row(
            name,
            precision,
            f1,
            f"{speed_raw:,.0f}",
            f"{speed_raw / spacy_raw:.2f}",
            f"{speed_tokenized:,.0f}",
            f"{speed_tokenized / spacy_tokenized:.2f}",
        )
    console.print(table)
    if not args.skip_workers:
        console.print(workers_table(pipelines, texts * args.repeat, args.workers, heading))
    starts = Table(title=f"cold start: `ner predict` of one sentence, {heading}")
    for column in ("run", "wall seconds"):
        starts.add_column(column)
    for run in args.runs:
        starts.add_row(Path(run).name, f"{min(cold_start(run, texts[0]) for _ in range(args.rounds)):.2f}")
    console.print(starts)
    console.print(size_table({"ner[runtime]": ["runtime"], f"ner[{','.join(ALL_EXTRAS)}]": ALL_EXTRAS}))


def workers_table(pipelines: dict[str, Pipeline], texts: list[str], workers: int, heading: str) -> Table:
    """Raw text through one process (all threads) against `workers` worker processes."""
    table = Table(title=f"{len(texts):,} texts through pipe(n_process=...), start-up included, {heading}")
    for column in ("system", "processes", "tokens/s", "x 1 process"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, pipeline in pipelines.items():
        speeds = {}
        for n in (1, workers):
            docs, seconds = timed(list, pipeline.pipe(texts, batch_size=64, n_process=n))
            speeds[n] = sum(len(d.tokens) for d in docs) / seconds
            table.add_row(name, str(n), f"{speeds[n]:,.0f}", f"{speeds[n] / speeds[1]:.2f}")
    return table


if __name__ == "__main__":
    main()
