"""Accuracy that travels: `glove-bilstm-crf` trained on WikiNEuRal, on CoNLL-2003 and on both (the general
model of `make general`), each scored on every corpus's labelled text it was not tuned on: WikiNEuRal
validation (weighted entity F1, the notebook's metric; its test labels are withheld), CoNLL-2003
validation and test (micro entity F1, the field's), with each model's prediction speed on WikiNEuRal's
test sentences (pre-tokenized) in one run, so the ratios compare. A model's own validation split chose
its best epoch, so its figure there is optimistic; CoNLL-2003 test is never seen.

    python -m benchmarks.transfer                       # trains the three into artefacts/bench/transfer
    python -m benchmarks.transfer wiki=RUN conll=RUN general=RUN   # measures runs trained before (any names)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from rich.table import Table

from ner.cli import PRESET_DIR
from ner.data_processing.readers import read_conll, read_file
from ner.inference.precision import cpu_capability
from ner.inference.run import Run, open_run
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config
from ner.utils.console import console
from ner.utils.errors import NerError
from ner.utils.metrics import sequence_metrics
from ner.utils.pairs import parse_pairs
from ner.workflows.corpus import create_dataset
from ner.workflows.training import train_model, train_tokenizer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WIKI, CONLL = DATA / "wikineural-en", DATA / "conll2003-en"
# Each model: its corpora and the time budget of the make target that trains it (minutes).
MODELS = {"wiki": ([WIKI], 9.0), "conll": ([CONLL], 9.0), "general": ([WIKI, CONLL], 30.0)}
FILES = {
    "WikiNEuRal val (weighted)": (WIKI / "val.json", "entity_f1"),
    "CoNLL val (micro)": (CONLL / "val.conll", "entity_f1_micro"),
    "CoNLL test (micro)": (CONLL / "test.conll", "entity_f1_micro"),
}
OUT = Path("artefacts/bench/transfer")
PRESET = "glove-bilstm-crf"


def train(name: str) -> Path:
    """Train the preset on the model's corpora within its budget; its run folder."""
    corpora, minutes = MODELS[name]
    base = OUT / name
    create_dataset(corpora, base / "dataset")
    config = load_config(TrainConfig, [PRESET_DIR / f"{PRESET}.yml"])
    config.train_and_eval.max_minutes = minutes
    train_tokenizer(base / "dataset", base / "tokenizer.json", config.tokenizer)
    train_model(
        config, base / "dataset", base / "tokenizer.json", base / "run", overwrite=True, progress=False
    )
    return base / "run"


def scores(run: Run) -> dict[str, float]:
    """The run's F1 on each labelled file, tagged as `ner evaluate` tags it."""
    label2id = {label: i for i, label in enumerate(run.labels)}
    row = {}
    for column, (path, key) in FILES.items():
        data = read_file(path)
        tagged = run.predictor.predict(
            [s.tokens for s in data.sentences], [s.document for s in data.sentences]
        )
        gold = [[label2id[t] for t in s.tags] for s in data.sentences]
        pred = [[label2id[t] for t in tags] for tags in tagged.tags]
        row[column] = sequence_metrics(gold, pred, dict(enumerate(run.labels)))[key]
    return row


def speed(run: Run, sentences: list[list[str]]) -> float:
    """Tokens a second the run tags WikiNEuRal's test sentences at."""
    run.predictor.tag(sentences[:200])
    start = time.perf_counter()
    run.predictor.tag(sentences)
    return sum(map(len, sentences)) / (time.perf_counter() - start)


def main() -> None:
    """Train or take the runs, score them and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "runs", nargs="*", metavar="NAME=RUN", help="runs trained before, each with the name its row shows"
    )
    args = parser.parse_args()
    try:
        given = parse_pairs(args.runs, "runs", "NAME=RUN")
    except NerError as err:
        parser.error(str(err))
    runs = (
        {name: Path(path) for name, path in given.items()}
        if given
        else {name: train(name) for name in MODELS}
    )
    sentences = [s.tokens for s in read_conll(WIKI / "test.tokens").sentences]
    table = Table(
        title=f"runs across corpora (CPU capability {cpu_capability()}, {torch.get_num_threads()} threads)"
    )
    for column in ("trained on", *FILES, "tokens/s"):
        table.add_column(column, justify="left" if column == "trained on" else "right")
    for name, run_dir in runs.items():
        run = open_run(run_dir)
        row = scores(run)
        table.add_row(name, *(f"{row[c]:.4f}" for c in FILES), f"{speed(run, sentences):,.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
