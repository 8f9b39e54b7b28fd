import io
import json
import os
import platform
import subprocess
import sys

import pytest
import torch
from rich.console import Console
from torch import nn

from ner.data_processing.constants import DEFAULT_LABELS
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.inference import precision
from ner.inference import predictor as predictor_module
from ner.inference.predictor import Predictor
from ner.models.tagger import as_tagger
from ner.utils.cache import cache_dir
from tests.conftest import ROOT

SENTENCES = [["Anna", "lives", "in", "Rome"], ["Acme", "Corp", "hires"], ["Paris"]]
LABELS = list(DEFAULT_LABELS)


class NoReducedKernel(nn.Module):
    """A network whose kernels fail under reduced precision, as oneDNN's LSTM does on AVX2 CPUs."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 9)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("could not create a primitive descriptor for the LSTM forward propagation")
        return self.linear(input_ids.unsqueeze(-1).float())


@pytest.fixture(autouse=True)
def notes(monkeypatch):
    """The notes the probe prints."""
    console = Console(file=io.StringIO(), width=300)
    monkeypatch.setattr(precision, "log", console)
    monkeypatch.setattr(predictor_module, "log", console)
    return console.file


@pytest.fixture
def collator():
    return DataCollator(Tokenizer().train({"text": SENTENCES}))


def probe_on(model, collator, requested="bfloat16"):
    batch = collator([{"text": s} for s in SENTENCES])
    return precision.probe(model, [lambda: model(batch.input_ids)], torch.device("cpu"), requested)


def test_bfloat16_falls_back_to_float32_where_the_kernel_does_not_run(collator, notes, monkeypatch):
    model = NoReducedKernel()
    assert probe_on(model, collator) == "float32"
    err = notes.getvalue()
    assert "bfloat16 does not run (could not create a primitive descriptor" in err
    assert "predicting in float32" in err
    remembered = json.loads((cache_dir() / precision.CACHE_FILE).read_text())
    assert list(remembered.values()) == [["float32", err.split("bfloat16 ")[1].split(" on this")[0]]]
    monkeypatch.setattr(precision, "_try", lambda *a: pytest.fail("probed twice on one machine"))
    assert probe_on(model, collator) == "float32"
    assert notes.getvalue().count("predicting in float32") == 2  # said each time it applies


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


def test_an_unwritable_cache_is_said_and_the_probe_still_decides(monkeypatch, notes, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("NER_CACHE_DIR", str(tmp_path / "file" / "ner"))
    assert probe_on(NoReducedKernel(), DataCollator(Tokenizer().train({"text": SENTENCES}))) == "float32"
    assert "cannot remember the precision probe" in notes.getvalue()


class FailsOnLongBatches(NoReducedKernel):
    """Reduced precision fails only on batches the probe does not see (here: of four or more tokens)."""

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] >= 4 and torch.is_autocast_enabled("cpu"):
            raise RuntimeError("no reduced kernel for this shape")
        return self.linear(input_ids.unsqueeze(-1).float())


def test_a_batch_that_fails_in_bfloat16_is_redone_in_float32(collator, notes):
    model = as_tagger(FailsOnLongBatches())
    expected = Predictor(model, collator, LABELS, batch_size=1).tag(SENTENCES)
    reduced = Predictor(model, collator, LABELS, "bfloat16", batch_size=1)
    assert reduced.tag(SENTENCES) == expected
    assert "bfloat16 failed on a batch (no reduced kernel for this shape); using float32" in notes.getvalue()
    assert reduced.precision == "float32"


AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
PREDICT_BILSTM = """
import torch
from ner.data_processing.constants import DEFAULT_LABELS
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.precision import probe
from ner.inference.predictor import Predictor
from ner.inference.run import probe_forwards
from ner.models.ner_predictor import NERPredictor
sentences = [["Anna", "lives", "in", "Rome"], ["Acme", "Corp", "hires"]] * 8 + [["Rome", "is", "big"]] * 300
tokenizer = Tokenizer().train({"text": sentences})
torch.manual_seed(0)
model = NERPredictor(tokenizer.vocab_size, 16, tokenizer.pad_id, 32, 9, model="lstm",
                     bidirectional=True, head="crf", chars="cnn", char_filters=8, char_dim=4).eval()
collator = DataCollator(tokenizer, char_max_length=10)
with torch.inference_mode():
    chosen = probe(model, probe_forwards(model, collator), torch.device("cpu"), "bfloat16")
tags = Predictor(model, collator, list(DEFAULT_LABELS), chosen).tag(sentences)
assert tags == Predictor(model, collator, list(DEFAULT_LABELS)).tag(sentences)
print(torch.backends.cpu.get_cpu_capability(), chosen)
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="AVX2 is an x86 instruction set")
def test_bilstm_predicts_in_bfloat16_request_on_an_avx2_only_cpu():
    """oneDNN has no bfloat16 LSTM for AVX2, and PyTorch calls it for batches of sequences of one
    length (the probe's second batch): the request must fall back to float32, not crash."""
    env = {**os.environ, **AVX2_ONLY}
    result = subprocess.run(
        [sys.executable, "-c", PREDICT_BILSTM], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AVX2 float32"
    assert "bfloat16 does not run (could not create a primitive descriptor" in result.stderr
