"""Submissions go through the run's Predictor: its precision, document consistency and files."""

import zipfile

from ner.data_processing.dataset import load_dataset
from ner.inference.predictor import Predictor
from ner.inference.run import open_run
from ner.utils.spans import get_named_entity_spans
from ner.workflows.submission import make_submission, predict_test_spans
from tests.conftest import LEGACY_RUN
from tests.helpers import documented_dataset

RUN = LEGACY_RUN
DOC = "-DOCSTART-\tO\n\n"
SENTENCES = ["Anna\tB-PER\nvisits\tO\nRome\tB-LOC\n", "ROME\tB-LOC\nwins\tO\n"]


def test_test_spans_are_tagged_with_the_documents_of_the_split(tmp_path, monkeypatch):
    dataset = documented_dataset(tmp_path)
    run = open_run(RUN)
    seen = []
    tag = Predictor.tag
    monkeypatch.setattr(Predictor, "tag", lambda self, s, d: seen.append(d) or tag(self, s, d))
    spans = predict_test_spans(dataset, run)
    test = load_dataset(dataset)["test"]
    assert seen == [test["document"]] == [[0, 0, 1]]
    label2id = {label: i for i, label in enumerate(run.labels)}
    expected: dict[str, list[str]] = {}
    for tags, index in zip(tag(run.predictor, test["text"], [0, 0, 1]), test["index"], strict=True):
        ids = [label2id[t] for t in tags]
        for etype, found in get_named_entity_spans(ids, [int(i) for i in index], run.id2label).items():
            expected.setdefault(etype, []).extend(f"{start}-{end}" for start, end in found)
    assert spans == expected


def test_a_final_submission_holds_each_models_predictions_and_files(tmp_path):
    dataset = documented_dataset(tmp_path)
    zip_path = make_submission(
        dataset, tmp_path / "out", {"rnn": open_run(RUN)}, kind="final", net_ids="ab12"
    )
    names = set(zipfile.ZipFile(zip_path).namelist())
    assert {"rnn/test_preds.csv", "rnn/config.json", "rnn/tokenizer.json", "rnn/model.safetensors"} <= names
    assert "net_ids.txt" in names and "ner/models/ner_predictor.py" in names
    rows = zipfile.ZipFile(zip_path).read("rnn/test_preds.csv").decode().splitlines()
    assert rows[0] == "id,pred"
