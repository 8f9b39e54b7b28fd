"""Choosing what to label, simulated: CoNLL-2003 train is the pool (its gold tags hidden from the
selector, shown only for the sentences chosen, as a person would label them). A `glove-bilstm-crf`
run is trained from scratch (batches of 16, 30 epochs) on a random seed set, then each round `ner select`'s strategy chooses N
more sentences with the last round's model and a new run is trained on all chosen so far. Prints the
F1 (micro, as written) on the first 1000 CoNLL-2003 validation sentences after each round for `uncertainty` and `random` (and
`diverse` if asked), and draws them (`--plot FILE`, a PNG). No split here is a test split.

    python -m benchmarks.active_learning [--rounds 4] [--n 200] [--pool 5000] [--plot docs/images/active-learning.png]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from datasets import DatasetDict
from rich.table import Table

from benchmarks.transfer import CONLL
from ner.cli import PRESET_DIR
from ner.data_processing.dataset import load_dataset, save_dataset
from ner.inference.run import open_run
from ner.runtime.pipeline import Pipeline
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config
from ner.utils.console import console
from ner.workflows.corpus import create_dataset
from ner.workflows.selection import (
    DIVERSE_CANDIDATES,
    doubts,
    most_doubtful,
    random_sample,
    unlike_each_other,
)
from ner.workflows.training import train_model, train_tokenizer

OUT = Path("artefacts/bench/active-learning")
PRESET = "glove-bilstm-crf"


def train_round(conll: DatasetDict, chosen: list[int], folder: Path, epochs: int, val: int) -> float:
    """Train a run on the chosen training sentences (batches of 16, as few sentences make few batches);
    its best micro F1 as written on the first `val` validation sentences."""
    data = DatasetDict({"train": conll["train"].select(chosen), "val": conll["val"].select(range(val))})
    save_dataset(data, folder / "dataset")
    config = load_config(TrainConfig, [PRESET_DIR / f"{PRESET}.yml"])
    config.train_and_eval.num_epochs = epochs
    config.train_and_eval.batch_size = 16
    config.train_and_eval.best_metric = "entity_f1"
    config.train_and_eval.val_casings = ["as-is"]
    train_tokenizer(folder / "dataset", folder / "tokenizer.json", config.tokenizer)
    train_model(
        config, folder / "dataset", folder / "tokenizer.json", folder / "run", overwrite=True, progress=False
    )
    best = json.loads((folder / "run" / "best.json").read_text())
    return best["val_metrics"]["entity_f1_micro"]


def choose(
    strategy: str, run: Path, conll: DatasetDict, pool: list[int], chosen: list[int], n: int, seed: int
) -> list[int]:
    """The next `n` sentences of the pool not chosen yet, by `strategy`, with `run` as the selector."""
    taken = set(chosen)
    records = [{"text": conll["train"][i]["text"], "row": i} for i in pool if i not in taken]
    if strategy == "random":
        picked = random_sample(records, n, seed)
    else:
        ranked = most_doubtful(
            doubts(Pipeline(open_run(run, precision="float32")), records), DIVERSE_CANDIDATES * n
        )
        picked = (
            ranked[:n]
            if strategy == "uncertainty"
            else unlike_each_other([(d, p, r | {"text": " ".join(r["text"])}) for d, p, r in ranked], n)
        )
    return [record["row"] for _, _, record in picked]


def main() -> None:
    """Run the rounds for each strategy and print (and plot) the validation F1 after each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--n", type=int, default=200, help="sentences chosen a round (and in the seed set)")
    parser.add_argument("--pool", type=int, default=5000, help="training sentences in the pool")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--val", type=int, default=1000, help="validation sentences scored")
    parser.add_argument("--strategies", default="uncertainty,random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    conll_dir = OUT / "conll"
    if not conll_dir.exists():
        create_dataset([CONLL], conll_dir)
    conll = load_dataset(conll_dir)
    rng = random.Random(args.seed)
    pool = sorted(rng.sample(range(len(conll["train"])), args.pool))
    start = sorted(rng.sample(pool, args.n))
    first = train_round(conll, start, OUT / "seed", args.epochs, args.val)
    curves = {}
    for strategy in args.strategies.split(","):
        chosen, scores, run = list(start), [first], OUT / "seed" / "run"
        for round_number in range(1, args.rounds + 1):
            chosen += choose(strategy, run, conll, pool, chosen, args.n, args.seed + round_number)
            folder = OUT / f"{strategy}-{round_number}"
            scores.append(train_round(conll, sorted(chosen), folder, args.epochs, args.val))
            run = folder / "run"
        curves[strategy] = scores
    sizes = [args.n * (k + 1) for k in range(args.rounds + 1)]
    table = Table(title=f"CoNLL-2003 val micro F1 by labelled sentences (pool {args.pool}, seed set random)")
    table.add_column("labelled")
    for strategy in curves:
        table.add_column(strategy)
    for k, size in enumerate(sizes):
        table.add_row(str(size), *(f"{curves[s][k]:.4f}" for s in curves))
    console.print(table)
    if args.plot:
        plot(sizes, curves, args.plot)


def plot(sizes: list[int], curves: dict[str, list[float]], path: Path) -> None:
    """The validation F1 after each round, one line a strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for strategy, scores in curves.items():
        axes.plot(sizes, scores, marker="o", label=strategy)
    axes.set_xlabel("labelled CoNLL-2003 training sentences")
    axes.set_ylabel("CoNLL-2003 validation micro F1")
    axes.set_title("Choosing what to label: glove-bilstm-crf")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
