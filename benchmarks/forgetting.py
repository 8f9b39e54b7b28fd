"""Retraining without forgetting: a CoNLL-2003 `glove-bilstm-crf` run fine-tuned (`ner train --init`) on a
dataset with one new type and none of the old ones (WikiNEuRal sentences, their four types removed and
years, 1500-2029 standing alone, tagged YEAR), with rehearsal (RUN's pseudo-labels on the new texts, the
default) and without (`--no-pseudo-labels`). Prints the old types' F1 on CoNLL-2003 validation before
and after each, and YEAR's F1 on the new validation split. No split here is a test split.

    python -m benchmarks.forgetting RUN [--sentences 5000] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from datasets import DatasetDict
from rich.table import Table

from benchmarks.transfer import CONLL, WIKI
from ner.cli import PRESET_DIR
from ner.data_processing.dataset import load_dataset, save_dataset
from ner.inference.run import open_run
from ner.runtime.folder import INIT_FILE, RunFiles
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config
from ner.utils.console import console
from ner.workflows.corpus import create_dataset
from ner.workflows.rehearsal import type_f1
from ner.workflows.training import train_model

OUT = Path("artefacts/bench/forgetting")
YEAR = re.compile(r"^(1[5-9]\d\d|20[0-2]\d)$")
PRESET = "glove-bilstm-crf"


def year_tags(tokens: list[str]) -> list[str]:
    """Each token tagged B-YEAR if it is a year, else O."""
    return ["B-YEAR" if YEAR.match(token) else "O" for token in tokens]


def year_dataset(sentences: int) -> Path:
    """WikiNEuRal's first `sentences` training and a fifth as many validation sentences, tagged YEAR only."""
    wiki = OUT / "wikineural"
    if not wiki.exists():
        create_dataset([WIKI], wiki)
    source = load_dataset(wiki)
    splits = {"train": sentences, "val": sentences // 5}
    dataset = {}
    for name, count in splits.items():
        split = source[name].select(range(min(count, len(source[name]))))
        tags = [year_tags(tokens) for tokens in split["text"]]
        dataset[name] = split.remove_columns("NER").add_column("NER", tags)
    save_dataset(DatasetDict(dataset), OUT / "year")
    return OUT / "year"


def fine_tune(run: Path, name: str, pseudo_labels: bool, epochs: int, conll: Path) -> dict:
    """Fine-tune `run` on the YEAR dataset; the rehearsal record of its init.json."""
    config = load_config(TrainConfig, [PRESET_DIR / f"{PRESET}.yml"])
    config.train_and_eval.num_epochs = epochs
    config.rehearse.pseudo_labels = pseudo_labels
    config.rehearse.data = str(conll)
    config.rehearse.share = 0.0
    tokenizer = RunFiles.of_folder(run).tokenizer
    train_model(config, OUT / "year", tokenizer, OUT / name, init_from=run, overwrite=True, progress=False)
    record = json.loads((OUT / name / INIT_FILE).read_text())
    year = type_f1(open_run(OUT / name, precision="float32"), str(OUT / "year"), ["YEAR"], "text")
    return record["rehearsal"] | {"year_f1": year["YEAR"]}


def main() -> None:
    """Fine-tune with and without rehearsal and print the old types' F1 before and after."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="a run trained on CoNLL-2003")
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    conll = OUT / "conll"
    if not conll.exists():
        create_dataset([CONLL], conll)
    year_dataset(args.sentences)
    results = {
        "rehearsal (pseudo-labels)": fine_tune(args.run, "rehearsed", True, args.epochs, conll),
        "no rehearsal": fine_tune(args.run, "forgetful", False, args.epochs, conll),
    }
    table = Table(
        title=f"old types' F1 on CoNLL-2003 val after fine-tuning on YEAR ({args.sentences} sentences)"
    )
    for column in ("fine-tuned", "type", "before", "after", "change"):
        table.add_column(column)
    for name, record in results.items():
        before, after = record["f1"]["before"], record["f1"]["after"]
        for etype in before:
            change = after[etype] - before[etype]
            table.add_row(name, etype, f"{before[etype]:.4f}", f"{after[etype]:.4f}", f"{change:+.4f}")
        mean_before = sum(before.values()) / len(before)
        mean_after = sum(after.values()) / len(after)
        table.add_row(
            name, "mean", f"{mean_before:.4f}", f"{mean_after:.4f}", f"{mean_after - mean_before:+.4f}"
        )
        table.add_row(name, "YEAR (new val)", "", f"{record['year_f1']:.4f}", "")
    console.print(table)


if __name__ == "__main__":
    main()
