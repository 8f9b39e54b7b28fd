"""Training validates as `ner evaluate` tags: on CoNLL-2003 stories, with GloVe vectors extending the
vocabulary and document consistency on, each epoch's validation metrics equal `ner evaluate` of that
epoch's checkpoint."""

import json

import pytest

from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import open_run
from tests.helpers import conll_slice, ner, train_glove

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def conll_run(tmp_path_factory):
    work = conll_slice(tmp_path_factory.mktemp("validation"), 15, 6)
    train_glove(
        work,
        "run",
        "--set",
        "model.encoder.hidden_dim=32",
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
