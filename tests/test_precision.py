import io
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rich.console import Console
from torch import nn

from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.inference import precision
from ner.inference.tagging import predict_ids

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [["Anna", "lives", "in", "Rome"], ["Acme", "Corp", "hires"], ["Paris"]]


class NoReducedKernel(nn.Module):
    """A tagger whose kernels fail under reduced precision, as oneDNN's LSTM does on AVX2 CPUs."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 9)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("could not create a primitive descriptor for the LSTM forward propagation")
        return self.linear(input_ids.unsqueeze(-1).float())


@pytest.fixture(autouse=True)
def notes(monkeypatch):
    """A fresh probe cache, and the notes the probe prints."""
    monkeypatch.setattr(precision, "_probed", {})
    console = Console(file=io.StringIO(), width=300)
    monkeypatch.setattr(precision, "log", console)
    return console.file


@pytest.fixture
def collator():
    return DataCollator(Tokenizer().train({"text": SENTENCES}))


def test_bfloat16_falls_back_to_float32_where_the_kernel_does_not_run(collator, notes):
    examples = [{"text": s} for s in SENTENCES]
    model = NoReducedKernel()
    expected = predict_ids(examples, collator, model)
    assert predict_ids(examples, collator, model, precision="bfloat16") == expected
    err = notes.getvalue()
    assert "bfloat16 does not run (could not create a primitive descriptor" in err
    assert "predicting in float32" in err
    predict_ids(examples, collator, model, precision="bfloat16")
    assert notes.getvalue() == err  # probed once per process


def test_bfloat16_that_is_not_faster_is_not_used(monkeypatch, notes):
    timings = iter([1.0, 1.0])  # reduced, then float32
    monkeypatch.setattr(precision, "_seconds", lambda run: (run(), next(timings))[1])
    model = nn.Linear(2, 2)
    chosen = precision.probe(model, [lambda: model(torch.ones(1, 2))], torch.device("cpu"), "bfloat16")
    assert chosen == "float32"
    assert "is not faster than float32" in notes.getvalue()


def test_bfloat16_that_runs_faster_is_used(monkeypatch):
    timings = iter([0.5, 1.0])
    monkeypatch.setattr(precision, "_seconds", lambda run: (run(), next(timings))[1])
    model = nn.Linear(2, 2)
    forward = [lambda: model(torch.ones(1, 2))]
    assert precision.probe(model, forward, torch.device("cpu"), "bfloat16") == "bfloat16"
    assert precision.probe(model, forward, torch.device("cpu"), "float32") == "float32"
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.probe(model, forward, torch.device("cpu"), "float16")


class FailsOnLongBatches(NoReducedKernel):
    """Reduced precision fails only on batches the probe does not see (here: of four or more tokens)."""

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] >= 4 and torch.is_autocast_enabled("cpu"):
            raise RuntimeError("no reduced kernel for this shape")
        return self.linear(input_ids.unsqueeze(-1).float())


def test_a_batch_that_fails_in_bfloat16_is_redone_in_float32(collator, notes, monkeypatch):
    monkeypatch.setattr(precision, "_seconds", lambda run: (run(), 0.0)[1])
    examples = [{"text": s} for s in SENTENCES]
    model = FailsOnLongBatches()
    expected = predict_ids(examples, collator, model, batch_size=1)
    assert predict_ids(examples, collator, model, batch_size=1, precision="bfloat16") == expected
    assert "bfloat16 does not run (no reduced kernel for this shape)" in notes.getvalue()


AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
PREDICT_BILSTM = """
import torch
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.models.ner_predictor import NERPredictor
from ner.inference.tagging import predict_ids
sentences = [["Anna", "lives", "in", "Rome"], ["Acme", "Corp", "hires"]] * 8 + [["Rome", "is", "big"]] * 300
tokenizer = Tokenizer().train({"text": sentences})
torch.manual_seed(0)
model = NERPredictor(tokenizer.vocab_size, 16, tokenizer.pad_id, 32, 9, model="lstm",
                     bidirectional=True, head="crf", chars="cnn", char_filters=8, char_dim=4)
collator = DataCollator(tokenizer, char_max_length=10)
examples = [{"text": s} for s in sentences]
assert predict_ids(examples, collator, model, precision="bfloat16") == predict_ids(examples, collator, model)
print(torch.backends.cpu.get_cpu_capability())
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="AVX2 is an x86 instruction set")
def test_bilstm_predicts_in_bfloat16_request_on_an_avx2_only_cpu():
    """oneDNN has no bfloat16 LSTM for AVX2, and PyTorch calls it for batches of sequences of one
    length (300 sentences of one length here): the request must fall back to float32, not crash."""
    env = {**os.environ, **AVX2_ONLY}
    result = subprocess.run(
        [sys.executable, "-c", PREDICT_BILSTM], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AVX2"
    assert "bfloat16 does not run (could not create a primitive descriptor" in result.stderr
