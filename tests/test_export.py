"""`ner export`: a trained run's network in ONNX tags as torch does (tags, span probabilities, n-best),
through `ner.load`, `ner predict` and the runtime's numpy decoding; int8 is refused when it loses F1; a
part without an export path stops with one line naming it."""

import json

import numpy as np
import pytest

import ner
from ner.export import onnx as export
from ner.inference.opening import open_model
from ner.nn.tags.chain import chains, viterbi
from ner.runtime.exported import Exported
from tests.conftest import ROOT
from tests.test_robustness import ner as ner_cli
from tests.test_validation import conll_slice, train_glove

pytestmark = pytest.mark.e2e

TEXT = (
    "Germany 's representative to the European Union 's veterinary committee Werner Zwingmann said on "
    "Wednesday consumers should buy sheepmeat from countries other than Britain .\nPeter Blackburn"
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small glove-bilstm-crf run on CoNLL-2003 stories, and its float32 export checked on their val
    split."""
    work = conll_slice(tmp_path_factory.mktemp("export"), 60, 6)
    train_glove(work, "run", "--set", "train_and_eval.num_epochs=4")
    ner_cli("export", work / "run", "--output", work / "onnx", "--dataset", work / "dataset")
    return work


def test_the_export_tags_as_torch_does_on_the_validation_split(exported):
    card = json.loads((exported / "onnx" / "model_card.json").read_text())
    parity = card["parity"]
    assert card["exporter"].startswith("torch.onnx.export (TorchScript exporter, dynamo=False), opset 17")
    assert parity["tokens"] > 1000 and parity["tokens_differing"] <= parity["tokens"] * 0.001
    assert abs(parity["f1_exported"] - parity["f1_torch"]) <= 0.001 and parity["f1_torch"] > 0.3
    assert parity["max_span_probability_difference"] <= 1e-4
    assert card["inputs"] == ["input_ids", "padding_mask", "char_words", "char_index"]
    assert {"model.onnx", "tags.json", "vocabulary.json", "config.json"} <= {
        p.name for p in (exported / "onnx").iterdir()
    }


def test_ner_load_gives_the_same_doc_from_the_export(exported):
    torch_doc = ner.load(exported / "run", precision="float32")(TEXT, nbest=3)
    pipeline = ner.load(exported / "onnx")
    assert isinstance(pipeline.model, Exported)
    doc = pipeline(TEXT, nbest=3)
    assert doc.tags == torch_doc.tags and doc.entities
    for mine, theirs in zip(doc.entities, torch_doc.entities, strict=True):
        assert (mine.text, mine.label, mine.start, mine.end) == (
            theirs.text,
            theirs.label,
            theirs.start,
            theirs.end,
        )
        assert mine.score == pytest.approx(theirs.score, abs=1e-4)
    for mine, theirs in zip(doc.nbest, torch_doc.nbest, strict=True):
        assert [tags for tags, _ in mine] == [tags for tags, _ in theirs]
        assert [p for _, p in mine] == pytest.approx([p for _, p in theirs], abs=1e-4)
    assert (
        pipeline(["Peter", "Blackburn", "in", "Britain"]).tags
        == ner.load(exported / "run")(["Peter", "Blackburn", "in", "Britain"]).tags
    )


def test_ner_predict_writes_the_same_entities_from_the_export(exported, tmp_path):
    source = tmp_path / "news.txt"
    source.write_text(TEXT + "\n" + TEXT.lower() + "\n")
    for name in ("run", "onnx"):
        ner_cli(
            "predict",
            "--experiment",
            exported / name,
            "--input",
            source,
            "--output",
            tmp_path / f"{name}.jsonl",
        )
    runs = [
        [json.loads(line)["entities"] for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        for name in ("run", "onnx")
    ]
    strip = [[[(e["text"], e["label"], e["start"]) for e in doc] for doc in docs] for docs in runs]
    assert strip[0] == strip[1] and any(strip[0])


def test_an_export_refuses_an_epoch_and_another_precision(exported):
    with pytest.raises(ner.utils.errors.NerError, match="--epoch reads a run folder"):
        open_model(exported / "onnx", epoch=1)
    with pytest.raises(ner.utils.errors.NerError, match="exported in float32, so it cannot run in bfloat16"):
        open_model(exported / "onnx", precision="bfloat16")


def test_int8_that_loses_f1_is_refused_and_nothing_is_written(exported, monkeypatch, tmp_path):
    monkeypatch.setattr(export, "INT8_F1_TOLERANCE", -1.0)
    with pytest.raises(
        ner.utils.errors.NerError,
        match=r"int8 loses too much: validation F1 0\.\d{4} against float32's 0\.\d{4}",
    ):
        export.export_run(
            exported / "run", tmp_path / "int8", quantize_to="int8", dataset=exported / "dataset"
        )
    assert list(tmp_path.iterdir()) == []


def test_a_part_without_an_export_path_stops_with_one_line(exported, tmp_path):
    ner_cli(
        *("train", "--dataset", exported / "dataset", "--tokenizer", exported / "tok.json"),
        *("--preset", "seed-rnn", "--output", tmp_path / "rnn", "--set", "train_and_eval.num_epochs=1"),
    )
    result = ner_cli("export", tmp_path / "rnn", "--output", tmp_path / "out", expect=2)
    assert result.stderr.strip().count("\n") == 0
    assert "model.model='rnn' (RNN) has no ONNX export path" in result.stderr
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["rnn"]


def test_the_notebooks_legacy_run_exports_and_tags_as_it_did(tmp_path):
    ner_cli("export", ROOT / "tests/fixtures/legacy_run", "--output", tmp_path / "onnx")
    sentences = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    assert ner.load(tmp_path / "onnx").model.predictor.tag(sentences) == ner.load(
        ROOT / "tests/fixtures/legacy_run"
    ).model.predictor.tag(sentences)


def test_numpy_viterbi_finds_the_best_path_by_enumeration():
    rng = np.random.default_rng(0)
    tags, length = 3, 4
    emissions = rng.normal(size=(2, length, tags)).astype(np.float32)
    transitions, start, end = (rng.normal(size=s).astype(np.float32) for s in ((tags, tags), tags, tags))
    lengths = np.array([4, 2])
    paths = viterbi(emissions, transitions, start, end, lengths)
    for row, n in enumerate(lengths):
        chain = chains(emissions[row : row + 1, :n], transitions, start, end, [n])[0]
        assert paths[row] == chain.best_paths(1)[0][0]
