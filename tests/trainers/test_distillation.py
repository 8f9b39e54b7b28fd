"""Distillation: the mixed loss and its schedule, the collator's teacher probabilities, and a student
trained from a teacher run and transfer text by `ner train --teacher --unlabeled`, and the same
probabilities from the teacher's export."""

import json

import numpy as np
import pytest
import torch

from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.trainers.distillation import Distillation, soft_cross_entropy
from ner.workflows.teacher import teacher_probabilities
from tests.helpers import ner, write_corpus


def test_the_teachers_weight_and_the_mixed_loss():
    constant, linear = Distillation(0.4), Distillation(0.4, "linear")
    assert (
        constant.weight_at(0.9) == 0.4
        and linear.weight_at(0.0) == 0.4
        and linear.weight_at(0.75) == pytest.approx(0.1)
    )
    teacher = torch.tensor([[[1.0, 0.0], [0.5, 0.5]], [[0.0, 0.0], [0.0, 0.0]]])
    student = torch.tensor([[[0.5, 0.5], [0.25, 0.75]], [[0.9, 0.1], [0.9, 0.1]]])
    expected = (-np.log(0.5) + -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))) / 2
    assert float(soft_cross_entropy(student, teacher)) == pytest.approx(expected, rel=1e-6)
    gold = torch.tensor(2.0)
    assert float(constant.loss(gold, True, student, teacher, 0.5)) == pytest.approx(
        0.6 * 2.0 + 0.4 * expected
    )
    assert float(constant.loss(gold, False, student, teacher, 0.5)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Distillation(1.5)


def test_the_collator_pads_and_truncates_a_teachers_probabilities_as_the_tokens():
    tokenizer = Tokenizer().from_dict({"<|pad|>": 0, "<|unk|>": 1, "a": 2, "b": 3})
    probabilities = np.eye(9, dtype=np.float32)[[1, 2, 0]]
    rows = [{"text": ["a", "b", "a"], "teacher": probabilities}, {"text": ["b"]}]
    batch = DataCollator(tokenizer)(rows)
    assert batch.soft_labels.shape == (2, 3, 9)
    assert batch.soft_labels[0].argmax(-1).tolist() == [1, 2, 0] and batch.soft_labels[1].sum() == 0
    cut = DataCollator(tokenizer, padding="max_length", max_length=2, truncation_side="left")(rows)
    assert cut.soft_labels[0].argmax(-1).tolist() == [2, 0]


@pytest.mark.e2e
def test_a_student_learns_from_a_teacher_and_transfer_text(tmp_path, monkeypatch):
    write_corpus(tmp_path / "corpus", sentences=40)
    ner("create-dataset", tmp_path / "corpus", tmp_path / "dataset")
    ner("train-tokenizer", "--dataset", tmp_path / "dataset", "--output", tmp_path / "tok.json")
    common = ["--dataset", tmp_path / "dataset", "--tokenizer", tmp_path / "tok.json", "--no-progress"]
    small = ["--preset", "bilstm-crf", "--set", "model.encoder.hidden_dim=16", "--set", "optimizer.lr=0.01"]
    small += ["--set", "train_and_eval.num_epochs=8", "--set", "train_and_eval.batch_size=8"]
    ner("train", *common, *small, "--output", tmp_path / "teacher")
    (tmp_path / "news.txt").write_text("Anna Smith lives in Rome near Acme Corp.\n" * 5)
    cache = {"NER_CACHE_DIR": str(tmp_path / "cache")}
    args = ["--teacher", tmp_path / "teacher", "--unlabeled", tmp_path / "news.txt"]
    student = ner("train", *common, *small, *args, "--output", tmp_path / "student", env=cache)
    assert "transfer text: 5 sentences from 1 file(s)" in student.stderr + student.stdout
    config = json.loads((tmp_path / "student" / "config.json").read_text())
    assert config["distill"]["teacher"] == str(tmp_path / "teacher")
    assert config["distill"]["unlabeled"] == [str(tmp_path / "news.txt")]
    assert len(list((tmp_path / "cache" / "teacher").glob("*.npz"))) == 1
    epochs = [
        json.loads(line) for line in (tmp_path / "student" / "val_metrics.jsonl").read_text().splitlines()
    ]
    assert max(e["metrics"]["entity_f1"] for e in epochs) > 0.9, epochs
    ner("export", tmp_path / "teacher", "--output", tmp_path / "exported")
    texts = [["Anna", "Smith", "lives", "in", "Rome"], ["Acme", "Corp"]]
    labels = config["labels"]
    monkeypatch.setenv("NER_CACHE_DIR", str(tmp_path / "cache"))
    by_run = teacher_probabilities(str(tmp_path / "teacher"), texts, labels)
    by_export = teacher_probabilities(str(tmp_path / "exported"), texts, labels)
    for run_rows, export_rows in zip(by_run, by_export, strict=True):
        assert np.allclose(run_rows, export_rows, atol=1e-3) and np.allclose(
            run_rows.sum(axis=1), 1.0, atol=1e-3
        )
    refused = ner(
        "train", *common, *small, "--unlabeled", tmp_path / "news.txt", "--output", tmp_path / "x", expect=2
    )
    assert "'distill.unlabeled + distill.teacher'" in refused.stderr
