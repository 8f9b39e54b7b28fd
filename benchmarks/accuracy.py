"""Accuracy benchmark: every preset and two peers on WikiNEuRal and CoNLL-2003, one table.

    python -m benchmarks.accuracy [--presets seed-ffnn,bilstm-crf] [--peers crfsuite,spacy] [--corpora ...]

"conll test micro" is as `ner evaluate` scores it, with the preset's prediction settings (document
consistency for bilstm-crf); "sentences alone" tags each sentence on its own. "to best" is the training
time up to the end of the best epoch (the run's seconds times the share of its epochs run by then);
"model MB" the size of the run's model.safetensors; "tok/s" prediction on the corpus's test tokens.
Run folders are kept under artefacts/bench/<corpus>/<preset>/, each with its WikiNEuRal test
submission CSV. Peers need the `bench` extra (pip install -e ".[bench]").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from rich.table import Table

from benchmarks.peers import CrfSuitePeer, SpacyPeer, score, timed
from ner.cli import PRESET_DIR
from ner.data_processing.dataset import label_set, load_dataset
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability
from ner.inference.run import open_run
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config
from ner.utils.console import console
from ner.workflows.corpus import create_dataset
from ner.workflows.prediction import predict_tags
from ner.workflows.submission import predict_test_spans, spans_csv
from ner.workflows.training import train_model, train_tokenizer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CORPORA = {"wikineural": DATA / "wikineural-en", "conll2003": DATA / "conll2003-en"}
PRESETS = ("seed-ffnn", "seed-rnn", "window-ffnn", "bilstm-crf", "glove-bilstm-crf", "minilm-crf")
PEERS = {"crfsuite": CrfSuitePeer, "spacy": SpacyPeer}
OUT = Path("artefacts/bench")


def split(corpus: Path, name: str) -> tuple[list[list[str]], list[list[str]]]:
    """Tokens and tags of a CoNLL split."""
    result = read_conll(corpus / f"{name}.conll")
    return [s.tokens for s in result.sentences], [s.tags for s in result.sentences]


def tokens_per_second(predict, sentences: list[list[str]]) -> float:
    """Prediction throughput on whole sentences."""
    _, seconds = timed(predict, sentences)
    return sum(len(s) for s in sentences) / seconds


def run_preset(corpus_name: str, preset: str, test_tokens: list[list[str]]) -> dict:
    """Train a preset on a corpus and measure it."""
    corpus = CORPORA[corpus_name]
    base = OUT / corpus_name
    config = load_config(TrainConfig, [PRESET_DIR / f"{preset}.yml"])
    run_dir = base / preset
    tokenizer_file = base / f"tokenizer-{preset}.json"
    train_tokenizer(base / "dataset", tokenizer_file, config.tokenizer)
    start = time.perf_counter()
    train_model(config, base / "dataset", tokenizer_file, run_dir, overwrite=True, progress=False)
    seconds = time.perf_counter() - start
    run = open_run(run_dir)
    best = run.best()
    epochs = len((run_dir / "val_metrics.jsonl").read_text().splitlines())
    row = {
        "params": run.model.num_params(),
        "seconds": seconds,
        "to_best": seconds * (best["epoch"] + 1) / epochs,
        "epochs": epochs,
        "model_mb": (run_dir / "model.safetensors").stat().st_size / 1e6,
        "val_micro": best["val_metrics"]["entity_f1_micro"],
        "val_weighted": best["val_metrics"]["entity_f1"],
    }
    labels = run.labels
    if corpus_name == "conll2003":
        test = read_conll(corpus / "test.conll")
        gold = [s.tags for s in test.sentences]
        plain = predict_tags(open_run(run_dir, document_consistency=False), test)
        row["test_micro"] = score(gold, predict_tags(run, test), labels)["micro"]
        row["test_micro_sentences"] = score(gold, plain, labels)["micro"]
    else:
        spans = predict_test_spans(base / "dataset", run)
        (run_dir / "test_preds.csv").write_text(spans_csv(spans))
    row["precision"] = run.predictor.precision
    row["tokens_per_s"] = tokens_per_second(run.predictor.tag, test_tokens)
    return row


def run_peer(corpus_name: str, peer_name: str, test_tokens: list[list[str]], labels: list[str]) -> dict:
    """Train a peer on a corpus and measure it the same way."""
    corpus = CORPORA[corpus_name]
    train, val = split(corpus, "train"), split(corpus, "val")
    peer = PEERS[peer_name]()
    epochs, seconds = timed(peer.fit, *train, val)
    row = {"params": peer.num_params(), "seconds": seconds, "epochs": epochs, "model_mb": peer.size_mb()}
    val_scores = score(val[1], peer.predict(val[0]), labels)
    row.update(val_micro=val_scores["micro"], val_weighted=val_scores["weighted"])
    if corpus_name == "conll2003":
        test = split(corpus, "test")
        row["test_micro"] = score(test[1], peer.predict(test[0]), labels)["micro"]
        row["test_micro_sentences"] = row["test_micro"]
    row["precision"] = "float32"
    row["tokens_per_s"] = tokens_per_second(peer.predict, test_tokens)
    return row


def test_sentences(corpus_name: str) -> list[list[str]]:
    """The tokens of a corpus's test split (WikiNEuRal's labels are withheld)."""
    corpus = CORPORA[corpus_name]
    name = "test.tokens" if (corpus / "test.tokens").exists() else "test.conll"
    return [s.tokens for s in read_conll(corpus / name).sentences]


def prepare(corpus_name: str) -> None:
    """The dataset of a corpus (each preset then trains its tokenizer as its config says)."""
    create_dataset([CORPORA[corpus_name]], OUT / corpus_name / "dataset", "conll")


def print_table(results: dict[str, dict[str, dict]]) -> None:
    """One row per system, columns per corpus."""
    table = Table(
        title=f"accuracy benchmark (CPU capability {cpu_capability()}, {torch.get_num_threads()} threads)"
    )
    columns = [
        "system",
        "params (wiki)",
        "train s (wiki/conll)",
        "to best s (wiki/conll)",
        "epochs (wiki/conll)",
        "model MB (wiki/conll)",
        "wiki val micro",
        "wiki val weighted",
        "conll val micro",
        "conll val weighted",
        "conll test micro",
        "conll test micro, sentences alone",
        "tok/s (wiki/conll test)",
        "precision",
    ]
    for column in columns:
        table.add_column(column, justify="left" if column == "system" else "right")

    def get(system, corpus, key, fmt="{:.4f}"):
        value = results.get(corpus, {}).get(system, {}).get(key)
        return "-" if value is None else fmt.format(value)

    def both(system, key, fmt):
        return f"{get(system, 'wikineural', key, fmt)}/{get(system, 'conll2003', key, fmt)}"

    systems = list(dict.fromkeys(s for corpus in results.values() for s in corpus))
    for system in systems:
        table.add_row(
            system,
            get(system, "wikineural", "params", "{:,}"),
            both(system, "seconds", "{:.0f}"),
            both(system, "to_best", "{:.0f}"),
            both(system, "epochs", "{}"),
            both(system, "model_mb", "{:.1f}"),
            get(system, "wikineural", "val_micro"),
            get(system, "wikineural", "val_weighted"),
            get(system, "conll2003", "val_micro"),
            get(system, "conll2003", "val_weighted"),
            get(system, "conll2003", "test_micro"),
            get(system, "conll2003", "test_micro_sentences"),
            both(system, "tokens_per_s", "{:,.0f}"),
            get(system, "wikineural", "precision", "{}")
            if "wikineural" in results
            else get(system, "conll2003", "precision", "{}"),
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--corpora", default=",".join(CORPORA))
    args = parser.parse_args()
    results: dict[str, dict[str, dict]] = {}
    for corpus_name in [c for c in args.corpora.split(",") if c]:
        test_tokens = test_sentences(corpus_name)
        prepare(corpus_name)
        labels = label_set(load_dataset(OUT / corpus_name / "dataset"))
        results[corpus_name] = {}
        for preset in [p for p in args.presets.split(",") if p]:
            results[corpus_name][preset] = run_preset(corpus_name, preset, test_tokens)
            print_table(results)
        for peer in [p for p in args.peers.split(",") if p]:
            results[corpus_name][PEERS[peer].name] = run_peer(corpus_name, peer, test_tokens, labels)
            print_table(results)


if __name__ == "__main__":
    main()
