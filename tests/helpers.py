"""Helpers the tests share: the command line in a subprocess, small corpora written on the fly, and
slices of CoNLL-2003 with a tokenizer."""

import os
import subprocess
import sys
from pathlib import Path

from ner.workflows.corpus import create_dataset
from tests.conftest import CONLL, ROOT, require_data

DOC = "-DOCSTART-\tO\n\n"
SENTENCES = ["Anna\tB-PER\nvisits\tO\nRome\tB-LOC\n", "ROME\tB-LOC\nwins\tO\n"]


TAGS = ["B-PER", "I-PER", "O", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O"]


WORDS = ["Anna", "Smith", "lives", "in", "Rome", "near", "Acme", "Corp", "."]


def ner(*args, expect=0, env=None):
    """`python -m ner.cli` with `args` (and `env` added to the environment), its exit status asserted to
    be `expect`."""
    result = subprocess.run(
        [sys.executable, "-m", "ner.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=None if env is None else os.environ | env,
    )
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def write_corpus(folder: Path, sentences: int = 60) -> Path:
    """A corpus of one repeated sentence: train and val CoNLL, test tokens."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", sentences), ("val", 12)):
        block = "".join(f"{w}\t{t}\n" for w, t in zip(WORDS, TAGS, strict=True))
        (folder / f"{split}.conll").write_text("\n".join([block] * n))
    (folder / "test.tokens").write_text("\n".join(["\n".join(WORDS) + "\n"] * 5))
    return folder


SEED_TRAIN = [
    "--preset",
    "seed-rnn",
    "--no-progress",
    "--set",
    "model.embedding_dim=16",
    "--set",
    "model.encoder.hidden_dim=16",
    "--set",
    "train_and_eval.batch_size=4",
    "--set",
    "model.dropout=0.2",
]


def train(prepared, out, *extra, expect=0):
    """`ner train` of a small seed-rnn on the corpus `prepared` holds, into `out`."""
    return ner(
        "train",
        "--dataset",
        prepared / "dataset",
        "--tokenizer",
        prepared / "tok.json",
        "--output",
        out,
        *SEED_TRAIN,
        *extra,
        expect=expect,
    )


def first_documents(path, count: int) -> str:
    """The first `count` -DOCSTART- documents of a CoNLL file."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("-DOCSTART-")]
    return "\n".join(lines[: starts[count]]) + "\n"


def conll_slice(work, train_documents: int, val_documents: int):
    """A corpus of CoNLL-2003's first stories under `work/corpus`, its dataset (`work/dataset`) and a
    tokenizer of the words seen twice (`work/tok.json`)."""
    require_data(CONLL)
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "train.conll").write_text(first_documents(CONLL / "train.conll", train_documents))
    (corpus / "val.conll").write_text(first_documents(CONLL / "val.conll", val_documents))
    (corpus / "test.conll").write_text(first_documents(CONLL / "test.conll", 2))
    ner("create-dataset", corpus, work / "dataset")
    ner("train-tokenizer", "--dataset", work / "dataset", "--output", work / "tok.json", "--min-freq", "2")
    return work


def train_glove(work, run: str, *args: str, expect: int = 0):
    """`ner train` of the glove-bilstm-crf preset on a slice made by `conll_slice`, into `work/run`."""
    return ner(
        "train",
        "--dataset",
        work / "dataset",
        "--tokenizer",
        work / "tok.json",
        "--preset",
        "glove-bilstm-crf",
        "--output",
        work / run,
        "--no-progress",
        *args,
        expect=expect,
    )


def documented_dataset(folder: Path) -> Path:
    """A saved dataset of two -DOCSTART- documents in each split."""
    corpus = folder / "corpus"
    corpus.mkdir()
    body = DOC + "\n".join(SENTENCES) + "\n" + DOC + SENTENCES[1]
    for split in ("train", "val", "test"):
        (corpus / f"{split}.conll").write_text(body)
    create_dataset([corpus], folder / "dataset")
    return folder / "dataset"
