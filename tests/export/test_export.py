"""`ner export`: a trained run's network in ONNX tags as torch does (tags, span probabilities, n-best),
through `ner.load`, `ner predict` and the runtime's numpy decoding; int8 is refused when it loses F1; a
part without an export path stops with one line naming it."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import ner
from benchmarks.install import closure
from ner.export import onnx as export
from ner.inference.opening import open_model
from ner.nn.tags.chain import chains, viterbi
from ner.runtime.exported import Exported
from tests.conftest import LEGACY_RUN, ROOT, service, site_packages
from tests.helpers import conll_slice, train_glove
from tests.helpers import ner as ner_cli

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
    assert card["exporter"] == "torch.onnx.export (dynamo exporter), opset 20"
    assert parity["tokens"] > 1000 and parity["tokens_differing"] <= parity["tokens"] * 0.001
    assert abs(parity["f1_exported"] - parity["f1_torch"]) <= 0.001 and parity["f1_torch"] > 0.3
    assert parity["max_span_probability_difference"] <= 1e-4
    assert card["inputs"] == ["input_ids", "padding_mask", "char_words", "char_index", "casing_ids"]
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
    assert "model.encoder 'rnn' has no ONNX export path" in result.stderr
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["rnn"]


def test_the_notebooks_legacy_run_exports_and_tags_as_it_did(tmp_path):
    ner_cli("export", LEGACY_RUN, "--output", tmp_path / "onnx")
    sentences = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    assert ner.load(tmp_path / "onnx").model.predictor.tag(sentences) == ner.load(
        LEGACY_RUN
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


def test_a_minilm_crf_export_tags_as_torch_does_long_sentences_included(exported, tmp_path):
    pytest.importorskip("transformers")
    ner_cli(
        *("train", "--dataset", exported / "dataset", "--tokenizer", exported / "tok.json"),
        *("--preset", "minilm-crf", "--output", tmp_path / "run", "--no-progress"),
        *("--set", "train_and_eval.num_epochs=1", "--set", "train_and_eval.max_minutes=1.5"),
    )
    ner_cli("export", tmp_path / "run", "--output", tmp_path / "onnx", "--dataset", exported / "dataset")
    card = json.loads((tmp_path / "onnx" / "model_card.json").read_text())
    assert (
        card["inputs"][-2:] == ["piece_ids", "piece_word"]
        and (tmp_path / "onnx" / "word_pieces.json").exists()
    )
    assert card["parity"]["tokens_differing"] <= card["parity"]["tokens"] * 0.001
    assert card["parity"]["max_span_probability_difference"] <= 1e-4
    # One sentence of 560 words, over 510 WordPieces: read in several segments of whole words.
    long = "Werner Zwingmann of Wiesbaden visited Britain ,".split() * 80
    mine, theirs = ner.load(tmp_path / "onnx")(long), ner.load(tmp_path / "run", precision="float32")(long)
    assert len(mine.sentences) == 1 and len(mine.tokens) == 560 and mine.tags == theirs.tags
    assert [e.score for e in mine.entities] == pytest.approx([e.score for e in theirs.entities], abs=1e-4)


def runtime_environment(folder: Path) -> str:
    """A virtual environment holding only what `ner[runtime]` requires, linked from this one (no
    network): no torch, no training stack. Its python."""
    found = closure(["runtime"])
    assert "torch" not in found and "onnxruntime" in found and "spacy" in found
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    site = site_packages(folder)
    for dist in found.values():
        for name in {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            target = Path(dist.locate_file(name))
            if target.exists() and not (site / name).exists():
                (site / name).symlink_to(target)
    return str(folder / "bin" / "python")


def test_a_runtime_only_environment_tags_and_serves_an_export_without_torch(exported, tmp_path):
    python = runtime_environment(tmp_path / "venv")
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'torch'" in probe.stderr
    script = (
        "import json, sys, ner; doc = ner.load(sys.argv[1])(sys.argv[2]); "
        "assert not any(m.split('.')[0] in ('torch', 'transformers') for m in sys.modules), 'torch imported'; "
        "print(json.dumps(doc.to_dict()['entities']))"
    )
    found = subprocess.run(
        [python, "-c", script, exported / "onnx", TEXT], capture_output=True, text=True, cwd=tmp_path
    )
    assert found.returncode == 0, found.stderr
    expected = [e.to_dict() for e in ner.load(exported / "run", precision="float32")(TEXT).entities]
    entities = json.loads(found.stdout)
    assert [(e["text"], e["label"]) for e in entities] == [(e["text"], e["label"]) for e in expected] != []
    source = tmp_path / "news.jsonl"
    source.write_text(json.dumps({"text": TEXT}) + "\n")
    command = [python, "-m", "ner.cli", "predict", "--experiment", exported / "onnx", "--input", source]
    assert subprocess.run([*command, "--output", tmp_path / "out.jsonl"], cwd=ROOT).returncode == 0
    assert json.loads((tmp_path / "out.jsonl").read_text())["entities"] == entities
    with service(exported / "onnx", python=python) as url:
        request = urllib.request.Request(
            f"{url}/v1/entities",
            data=json.dumps({"text": TEXT}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert json.loads(urllib.request.urlopen(request, timeout=30).read())["entities"] == entities
        bad = urllib.request.Request(
            f"{url}/v1/entities", data=b'{"text": 3}', headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=30)
        assert refused.value.code == 422
    train = subprocess.run(
        [
            python,
            "-m",
            "ner.cli",
            "train",
            "--dataset",
            exported / "dataset",
            "--tokenizer",
            "t",
            "--output",
            "o",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert train.returncode == 2 and train.stderr.count("\n") == 1
    assert (
        'ner train needs torch and datasets, not installed here; install the training extra: pip install -e ".[train]"'
        in train.stderr
    )


def post(url: str, body: dict) -> dict:
    """The JSON answer of POST /v1/entities."""
    request = urllib.request.Request(
        f"{url}/v1/entities", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(request, timeout=30).read())


def spans(entities: list) -> list[tuple]:
    """(text, label, start, end) of entities, as objects or dicts."""
    return [
        (e["text"], e["label"], e["start"], e["end"])
        if isinstance(e, dict)
        else (e.text, e.label, e.start, e.end)
        for e in entities
    ]


def test_a_run_is_calibrated_and_its_export_scores_as_it_does(exported):
    calibration = json.loads((exported / "run" / "calibration.json").read_text())
    assert calibration["method"] == "temperature" and calibration["temperature"] > 0
    assert calibration["fitted_on"] == "dataset/val" and calibration["after"]["entities"] > 0
    assert (exported / "onnx" / "calibration.json").read_text() == (
        exported / "run" / "calibration.json"
    ).read_text()
    run, export = ner.load(exported / "run", precision="float32"), ner.load(exported / "onnx")
    assert run.model.predictor.temperature == export.model.predictor.temperature == calibration["temperature"]
    scores = [e.score for e in run(TEXT).entities]
    assert scores == pytest.approx([e.score for e in export(TEXT).entities], abs=1e-4)
    run.model.predictor.temperature = 1.0
    assert run(TEXT).tags == export(TEXT).tags and [e.score for e in run(TEXT).entities] != scores


def test_min_score_gives_the_same_entities_through_cli_python_service_and_export(exported, tmp_path):
    everything = ner.load(exported / "run", precision="float32")(TEXT)
    scores = sorted(e.score for e in everything.entities)
    assert len(scores) >= 2 and scores[0] < scores[-1]
    threshold = round((scores[0] + scores[-1]) / 2, 3)
    kept = [e for e in everything.entities if e.score >= threshold]
    assert 0 < len(kept) < len(everything.entities)
    expected = spans(kept)
    label = kept[0].label
    per_type = f"{label}=0.999"
    expected_per_type = spans([e for e in everything.entities if e.label != label or e.score >= 0.999])
    for model in ("run", "onnx"):
        precision = {"precision": "float32"} if model == "run" else {}
        assert spans(ner.load(exported / model, min_score=threshold, **precision)(TEXT).entities) == expected
        tagger = ner.load(exported / model, **precision)
        assert spans(tagger(TEXT, min_score=threshold).entities) == expected
        assert spans(next(tagger.pipe([TEXT], min_score={label: 0.999})).entities) == expected_per_type
        doc = tagger(TEXT, min_score=threshold)
        dropped = {(e.start, e.end) for e in everything.entities if e.score < threshold}
        assert all(
            tag == "O"
            for sentence, tags in zip(doc.sentences, doc.tags, strict=True)
            for token, tag in zip(sentence, tags, strict=True)
            if any(start <= token.start < end for start, end in dropped)
        )
    source = tmp_path / "news.jsonl"
    source.write_text(json.dumps({"text": TEXT}) + "\n")
    for model in ("run", "onnx"):
        precision = ["--precision", "float32"] if model == "run" else []
        for value, want in ((str(threshold), expected), (per_type, expected_per_type)):
            output = tmp_path / f"{model}.jsonl"
            ner_cli(
                "predict",
                "--experiment",
                exported / model,
                "--input",
                source,
                "--output",
                output,
                "--min-score",
                value,
                *precision,
            )
            assert spans(json.loads(output.read_text())["entities"]) == want
    tokens = tmp_path / "tokens.conll"
    tokens.write_text("".join(f"{t}\tO\n" for t in TEXT.split("\n")[0].split()) + "\n")
    for model in ("run", "onnx"):
        ner_cli(
            "predict", "--experiment", exported / model, "--input", tokens, "--output", tmp_path / "all.conll"
        )
        ner_cli(
            "predict",
            "--experiment",
            exported / model,
            "--input",
            tokens,
            "--output",
            tmp_path / "kept.conll",
            "--min-score",
            "0.999",
        )
        all_tags = [line.split("\t")[1] for line in (tmp_path / "all.conll").read_text().split("\n") if line]
        kept_tags = [
            line.split("\t")[1] for line in (tmp_path / "kept.conll").read_text().split("\n") if line
        ]
        assert len(all_tags) == len(kept_tags) and all(
            k in ("O", a) for a, k in zip(all_tags, kept_tags, strict=True)
        )
        assert kept_tags.count("O") > all_tags.count("O")
    with service(exported / "run", "--min-score", str(threshold), "--precision", "float32") as url:
        assert spans(post(url, {"text": TEXT})["entities"]) == expected
        assert spans(post(url, {"text": TEXT, "min_score": 0})["entities"]) == spans(everything.entities)
        assert spans(
            post(url, {"texts": [TEXT], "min_score": {label: 0.999}})["documents"][0]["entities"]
        ) == (expected_per_type)
        for bad, message in (({"FOO": 0.5}, "FOO"), (1.5, "[0, 1)"), ("high", "number")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                post(url, {"text": TEXT, "min_score": bad})
            assert refused.value.code == 422 and message in json.loads(refused.value.read())["error"]
        assert spans(post(url, {"text": TEXT})["entities"]) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("1.2", "in [0, 1)"),
        ("FOO=0.5", "unknown entity type 'FOO'"),
        ("PER=", "TYPE=NUMBER"),
        ("x", "TYPE=NUMBER"),
    ],
)
def test_a_bad_min_score_is_refused_in_one_line(exported, tmp_path, value, message):
    source = tmp_path / "news.txt"
    source.write_text(TEXT + "\n")
    result = ner_cli(
        "predict",
        "--experiment",
        exported / "onnx",
        "--input",
        source,
        "--output",
        tmp_path / "o.jsonl",
        "--min-score",
        value,
        expect=2,
    )
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "o.jsonl").exists()
