"""Choosing what to label next: a pool of raw texts ranked by the model's doubt of their tags (from the
tag marginals, normalised for length: `scoring.doubt`), or drawn at random, or ranked by doubt while
skipping near duplicates of texts already chosen; the chosen texts are written pre-annotated."""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ner.data_processing.formats import listed
from ner.data_processing.readers import raw_format, stream_documents
from ner.inference.opening import open_model
from ner.runtime.pipeline import TEXTS_PER_CHUNK, Pipeline, chunked
from ner.utils.console import log
from ner.utils.errors import DataFormatError, NerError
from ner.workflows.raw_text import output_format_of, write_documents

STRATEGIES = ("uncertainty", "random", "diverse")
# `diverse` looks this many times N down the doubt ranking for texts unlike those already chosen.
DIVERSE_CANDIDATES = 5
# Texts whose word sets overlap this much (Jaccard) are near duplicates.
NEAR_DUPLICATE = 0.5
WORD = re.compile(r"\w+")


def doubts(pipeline: Pipeline, records: Iterable[dict]) -> Iterator[tuple[float, int, dict]]:
    """Each record's doubt, position and the record, tagged a chunk at a time."""
    position = 0
    for chunk in chunked(records, TEXTS_PER_CHUNK):
        for record, doc in zip(chunk, pipeline.process([r["text"] for r in chunk]), strict=True):
            yield doc.doubt, position, record
            position += 1


def most_doubtful(scored: Iterable[tuple[float, int, dict]], n: int) -> list[tuple[float, int, dict]]:
    """The `n` most doubtful records, most doubtful first (earlier first among equals)."""
    return heapq.nsmallest(n, scored, key=lambda item: (-item[0], item[1]))


def word_set(text: str) -> frozenset[str]:
    """A text's lower-cased words."""
    return frozenset(WORD.findall(text.lower()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """The Jaccard overlap of two word sets."""
    return len(a & b) / len(a | b) if a or b else 1.0


def unlike_each_other(ranked: list[tuple[float, int, dict]], n: int) -> list[tuple[float, int, dict]]:
    """The first `n` of the ranking that are no near duplicate of one chosen before them."""
    chosen, words = [], []
    for item in ranked:
        mine = word_set(item[2]["text"])
        if all(similarity(mine, other) < NEAR_DUPLICATE for other in words):
            chosen.append(item)
            words.append(mine)
            if len(chosen) == n:
                break
    return chosen


def random_sample(records: Iterable[dict], n: int, seed: int) -> list[tuple[float, int, dict]]:
    """`n` records drawn uniformly from a stream (reservoir sampling), in pool order; no doubt measured."""
    rng = random.Random(seed)
    sample: list[tuple[float, int, dict]] = []
    for position, record in enumerate(records):
        if position < n:
            sample.append((0.0, position, record))
        else:
            slot = rng.randrange(position + 1)
            if slot < n:
                sample[slot] = (0.0, position, record)
    return sorted(sample, key=lambda item: item[1])


def select(
    source: str | Path,
    pool: str | Path,
    n: int,
    strategy: str,
    output: str | Path,
    output_format: str | None = None,
    seed: int = 0,
    fmt: str = "auto",
    **options: object,
) -> list[int]:
    """Choose `n` texts of the pool by `strategy`, write them pre-annotated (each with its doubt,
    most doubtful first) and return their positions in the pool."""
    if strategy not in STRATEGIES:
        raise NerError(f"--strategy: one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if n < 1:
        raise NerError(f"--n: the number of texts to choose is 1 or more, got {n}")
    output_format = output_format_of(output, output_format)
    pool_format = raw_format(pool, fmt)
    if pool_format is None:
        raise DataFormatError(str(pool), None, f"a pool is raw text: {listed('raw', 'jsonl')}")
    pipeline = Pipeline(open_model(source, **options))
    records = stream_documents(pool, pool_format)
    if strategy == "random":
        chosen = random_sample(records, n, seed)
    elif strategy == "uncertainty":
        chosen = most_doubtful(doubts(pipeline, records), n)
    else:
        chosen = unlike_each_other(most_doubtful(doubts(pipeline, records), DIVERSE_CANDIDATES * n), n)
    if len(chosen) < n:
        log.print(f"the pool gave {len(chosen)} texts of the {n} asked for")
    picked = (
        record | ({"doubt": round(doubt, 6)} if strategy != "random" else {}) for doubt, _, record in chosen
    )
    write_documents(pipeline, picked, output, output_format, title=Path(pool).name)
    log.print(f"chose {len(chosen)} texts of {pool} by {strategy} -> {output}")
    return [position for _, position, _ in chosen]
