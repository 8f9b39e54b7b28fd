"""Prediction benchmark: trained runs against spaCy's NER on the same sentences, in one process.

    python -m benchmarks.predict RUN_DIR [RUN_DIR ...] [--corpus ../shared/data/wikineural-en]
        [--precisions float32,bfloat16] [--rounds 3]

For each run and precision: the precision the CPU probe actually chose, validation entity F1 in it
(weighted and micro), and tokens/s tagging the corpus's test tokens (batches of 256, best of
`--rounds` rounds, systems interleaved). spaCy: a blank-English pipeline with its NER trained for one
epoch on the train split (its speed does not depend on how well it is trained), tagging the same
sentences with `nlp.pipe`. Every figure is printed beside this CPU's capability and thread count.
Needs the `bench` extra (pip install -e ".[bench]").
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from ner.inference.tagging import probe_precision
from rich.table import Table

from benchmarks.peers import SpacyPeer, score, timed
from ner.data_processing.readers import read_conll
from ner.inference.pipeline import Pipeline
from ner.inference.precision import cpu_capability
from ner.inference.run import Experiment
from ner.utils.console import console
from ner.utils.utils import resolve_device

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wikineural-en"


class RunTagger:
    """A trained run tagging token lists in one precision."""

    def __init__(self, run_dir: str, precision: str):
        self.experiment = Experiment.open(run_dir)
        self.precision = precision
        self.name = f"{Path(run_dir).name} ({precision})"

    def used_precision(self, sentences: list[list[str]]) -> str:
        """The precision the CPU probe chose for this model (probed on the first sentences)."""
        collator = self.experiment.collator()
        examples = [{collator.text_colname: s} for s in sentences[:256]]
        device = resolve_device(self.experiment.config.trainer.device)
        model = self.experiment.model().to(device).eval()
        with torch.inference_mode():
            return probe_precision(model, collator, examples, device, self.precision)

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        """Tags of each sentence (sentence by sentence: no documents)."""
        return self.experiment.tag(sentences, precision=self.precision)


def split(corpus: Path, name: str) -> tuple[list[list[str]], list[list[str]]]:
    """Tokens and tags of a CoNLL split."""
    result = read_conll(corpus / f"{name}.conll")
    return [s.tokens for s in result.sentences], [s.tags for s in result.sentences]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="run folders written by `ner train`")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    test = [s.tokens for s in read_conll(args.corpus / "test.tokens").sentences]
    val_tokens, val_tags = split(args.corpus, "val")
    num_tokens = sum(len(s) for s in test)
    taggers = [RunTagger(run, p) for run in args.runs for p in args.precisions.split(",")]
    spacy = SpacyPeer(max_epochs=1)
    spacy.fit(*split(args.corpus, "train"))
    rows = {}
    for tagger in taggers:
        labels = tagger.experiment.config.labels
        scores = score(val_tags, tagger.predict(val_tokens), labels)
        rows[tagger.name] = {"used": tagger.used_precision(test), **scores, "seconds": float("inf")}
    rows["spaCy blank-en ner"] = {"used": "float32", "seconds": float("inf")}
    systems = [(t.name, t.predict) for t in taggers] + [("spaCy blank-en ner", spacy.predict)]
    for _ in range(args.rounds):
        for name, predict in systems:
            _, seconds = timed(predict, test)
            rows[name]["seconds"] = min(rows[name]["seconds"], seconds)
    spacy_speed = num_tokens / rows["spaCy blank-en ner"]["seconds"]
    table = Table(
        title=f"prediction benchmark: {num_tokens:,} test tokens, CPU capability {cpu_capability()}, "
        f"{torch.get_num_threads()} threads"
    )
    for column in ("system", "precision used", "val weighted", "val micro", "tokens/s", "x spaCy"):
        table.add_column(column, justify="left" if column in ("system", "precision used") else "right")
    for name, row in rows.items():
        speed = num_tokens / row["seconds"]
        table.add_row(
            name,
            row["used"],
            f"{row['weighted']:.4f}" if "weighted" in row else "-",
            f"{row['micro']:.4f}" if "micro" in row else "-",
            f"{speed:,.0f}",
            f"{speed / spacy_speed:.2f}",
        )
    console.print(table)
    console.print(raw_text_table(args.runs, [" ".join(s) for s in test], spacy, args.rounds))


def raw_text_table(runs: list[str], texts: list[str], spacy: SpacyPeer, rounds: int) -> Table:
    """Tokens/s from raw text to entities: each run's `ner.load(...).pipe` (spaCy's tokenizer and
    sentencizer included) against spaCy's `nlp.pipe` with its NER, on the same texts."""
    pipelines = {Path(run).name: Pipeline.load(run) for run in runs}
    counts = {
        name: sum(len(d.tokens) for d in p.pipe(texts, batch_size=256)) for name, p in pipelines.items()
    }
    systems = {name: lambda p=p: list(p.pipe(texts, batch_size=256)) for name, p in pipelines.items()}
    systems["spaCy blank-en ner"] = lambda: list(spacy.nlp.pipe(texts, batch_size=256))
    counts["spaCy blank-en ner"] = sum(len(doc) for doc in spacy.nlp.pipe(texts, batch_size=256))
    seconds = dict.fromkeys(systems, float("inf"))
    for _ in range(rounds):
        for name, run in systems.items():
            _, elapsed = timed(run)
            seconds[name] = min(seconds[name], elapsed)
    spacy_speed = counts["spaCy blank-en ner"] / seconds["spaCy blank-en ner"]
    table = Table(title=f"raw text to entities: {len(texts):,} texts")
    for column in ("system", "tokens", "tokens/s", "x spaCy"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, elapsed in seconds.items():
        speed = counts[name] / elapsed
        table.add_row(name, f"{counts[name]:,}", f"{speed:,.0f}", f"{speed / spacy_speed:.2f}")
    return table


if __name__ == "__main__":
    main()
