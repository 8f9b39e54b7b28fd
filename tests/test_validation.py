"""Training validates as `ner evaluate` tags: on CoNLL-2003 stories, with GloVe vectors extending the
vocabulary and document consistency on, each epoch's validation metrics equal `ner evaluate` of that
epoch's checkpoint."""

import json

import pytest

from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import open_run
from tests.conftest import CONLL, require_data
from tests.test_robustness import ner

pytestmark = pytest.mark.e2e


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


@pytest.fixture(scope="module")
def conll_run(tmp_path_factory):
    work = conll_slice(tmp_path_factory.mktemp("validation"), 15, 6)
    train_glove(
        work,
        "run",
        "--set",
        "model.hidden_dim=32",
        "--set",
        "train_and_eval.num_epochs=2",
        "--set",
        "train_and_eval.keep_checkpoints=0",
    )
    return work


def test_each_epochs_validation_metrics_equal_ner_evaluate_of_its_checkpoint(conll_run):
    run = conll_run / "run"
    records = [json.loads(line) for line in (run / "val_metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [0, 1]
    for record in records:
        out = conll_run / f"evaluate_{record['epoch']}.json"
        ner(
            "evaluate",
            "--experiment",
            run,
            "--input",
            conll_run / "corpus" / "val.conll",
            "--epoch",
            record["epoch"],
            "--precision",
            "float32",
            "--json",
            out,
        )
        evaluated = json.loads(out.read_text())["metrics"]
        assert evaluated == pytest.approx({k: record["metrics"][k] for k in evaluated}, abs=1e-12)


def test_validation_read_words_the_training_vocabulary_lacks_through_their_vectors(conll_run):
    val = (conll_run / "corpus" / "val.conll").read_text().split()
    saved = Tokenizer.load(conll_run / "run" / "tokenizer.json")
    extended = open_run(conll_run / "run").tokenizer
    unknown = [w for w in val if saved.lookup(w) == saved.unk_id]
    assert sum(extended.lookup(w) != extended.unk_id for w in unknown) > len(unknown) // 3
