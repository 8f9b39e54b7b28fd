"""End to end on a slice of the real WikiNEuRal data, through the `ner` command and the notebook's scripts."""

import json
import subprocess
import sys
import zipfile

import pytest
import torch
import yaml

from ner.data_processing.constants import NER_ENCODING_MAP
from ner.data_processing.readers import read_file
from ner.data_processing.text import TextSplitter
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import open_run
from ner.models.ner_predictor import NERPredictor
from ner.nn.tags.document_consistency import majority_types, phrase
from ner.utils.spans import tag_spans
from ner.workflows.prediction import predict_tags
from tests.conftest import CONLL, ROOT, WIKINEURAL, require_data

pytestmark = pytest.mark.e2e
SMALL = [
    "--set",
    "model.embedding_dim=32",
    "--set",
    "model.encoder.hidden_dim=32",
    "--set",
    "train_and_eval.num_epochs=2",
]
SIZES = {"train": 600, "val": 150, "test": 150}


def run(*args, expect=0):
    result = subprocess.run([*args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def ner(*args, expect=0):
    return run(sys.executable, "-m", "ner.cli", *args, expect=expect)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The first sentences of each WikiNEuRal split, in the notebook's JSON format."""
    require_data(WIKINEURAL)
    folder = tmp_path_factory.mktemp("corpus")
    for split, size in SIZES.items():
        data = json.loads((WIKINEURAL / f"{split}.json").read_text())
        (folder / f"{split}.json").write_text(json.dumps({k: v[:size] for k, v in data.items()}))
    lines, count = [], 0
    for line in (WIKINEURAL / "val.conll").read_text().splitlines():
        count += not line.strip()
        if count >= 40:
            break
        lines.append(line)
    (folder / "val_slice.conll").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    ner("create-dataset", str(corpus), str(work / "dataset"))
    ner(
        "train-tokenizer",
        "--dataset",
        str(work / "dataset"),
        "--output",
        str(work / "tok.json"),
        "--min-freq",
        "2",
    )
    ner(
        "train",
        "--dataset",
        str(work / "dataset"),
        "--tokenizer",
        str(work / "tok.json"),
        "--preset",
        "seed-rnn",
        "--output",
        str(work / "rnn"),
        "--no-progress",
        *SMALL,
    )
    return work


def test_run_folder_holds_everything_needed(trained):
    run_dir = trained / "rnn"
    assert {
        "config.json",
        "tokenizer.json",
        "best.json",
        "model.safetensors",
        "train_metrics.jsonl",
        "val_metrics.jsonl",
    } <= {p.name for p in run_dir.iterdir()}
    best = json.loads((run_dir / "best.json").read_text())
    kept = {f"checkpoint_{epoch}.ckpt" for epoch in (1, best["epoch"])}  # the last (to resume), the best
    assert {p.name for p in (run_dir / "checkpoints").iterdir()} == kept
    val = [json.loads(line) for line in (run_dir / "val_metrics.jsonl").read_text().splitlines()]
    assert best["value"] == max(r["metrics"]["entity_f1"] for r in val)


def test_predict_writes_one_tag_per_input_token(trained, corpus):
    out = trained / "pred.conll"
    ner(
        "predict",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(corpus / "val_slice.conll"),
        "--output",
        str(out),
    )
    gold = [line.split("\t") for line in (corpus / "val_slice.conll").read_text().splitlines()]
    pred = [line.split("\t") for line in out.read_text().splitlines()]
    assert len(gold) == len(pred)
    assert [g[0] for g in gold] == [p[0] for p in pred]
    assert all(len(p) == 1 and p == [""] for g, p in zip(gold, pred, strict=True) if g == [""])
    assert {p[1] for p in pred if len(p) == 2} <= set(NER_ENCODING_MAP) - {"<|pad|>"}


def test_raw_text_gives_the_entities_of_the_same_tokens_pretokenized(trained, corpus):
    sentences = read_file(corpus / "val_slice.conll").sentences
    texts = [" ".join(s.tokens) for s in sentences]
    (trained / "raw.txt").write_text("\n".join(texts) + "\n")
    ner(
        "predict",
        "--experiment",
        trained / "rnn",
        "--input",
        trained / "raw.txt",
        "--output",
        trained / "raw.jsonl",
    )
    records = [json.loads(line) for line in (trained / "raw.jsonl").read_text().splitlines()]
    tagged = open_run(trained / "rnn").predictor.tag([s.tokens for s in sentences])
    splitter = TextSplitter()
    compared = 0
    for text, tokens, tags, record in zip(texts, [s.tokens for s in sentences], tagged, records, strict=True):
        assert record["text"] == text
        split = [t.text for sentence in splitter.split(text) for t in sentence]
        if split != tokens or len(splitter.split(text)) != 1:
            continue  # spaCy split this line otherwise, so the two paths tag different tokens
        starts = [sum(len(t) + 1 for t in tokens[:i]) for i in range(len(tokens))]
        expected = [
            (label, starts[first], starts[last] + len(tokens[last])) for label, first, last in tag_spans(tags)
        ]
        assert [(e["label"], e["start"], e["end"]) for e in record["entities"]] == expected
        compared += 1
    assert compared >= len(texts) // 2 and any(record["entities"] for record in records)


def test_evaluate_prints_metrics_and_per_type_table(trained, corpus):
    result = ner(
        "evaluate",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(corpus / "val_slice.conll"),
        "--json",
        str(trained / "eval.json"),
    )
    assert "entity_f1_micro" in result.stdout and "PER" in result.stdout
    report = json.loads((trained / "eval.json").read_text())
    assert 0.0 <= report["metrics"]["entity_f1"] <= 1.0 and set(report["per_type"]) >= {
        "PER",
        "LOC",
        "ORG",
        "MISC",
    }


def test_submit_writes_the_notebooks_csv(trained):
    ner(
        "submit",
        "--dataset",
        str(trained / "dataset"),
        "--output",
        str(trained),
        "--model",
        f"rnn={trained / 'rnn'}",
    )
    with zipfile.ZipFile(trained / "leaderboard_submission.zip") as archive:
        rows = archive.read("rnn/test_preds.csv").decode().splitlines()
    assert rows[0] == "id,pred" and [r.split(",")[0] for r in rows[1:]] == ["LOC", "MISC", "PER", "ORG"]
    for row in rows[1:]:
        for span in row.split(",", 1)[1].split():
            start, end = map(int, span.split("-"))
            assert 0 <= start <= end


def test_bad_input_gives_one_line_and_status_2(trained, tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("Paris\tB-LOC\nis\tO\tX\n")
    result = ner(
        "predict",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(bad),
        "--output",
        str(tmp_path / "out.conll"),
        expect=2,
    )
    assert (
        result.stderr.strip()
        == f"error: {bad}:2: expected 2 column(s) as on the file's first token line, found 3"
    )
    assert not (tmp_path / "out.conll").exists()


def test_notebook_scripts_and_loading_cells(corpus, tmp_path):
    art = tmp_path / "artefacts"
    run(
        sys.executable,
        "-m",
        "scripts.create_hf_dataset",
        f"--basepath-to-dataset-json-files={corpus}",
        f"--path-to-store-hf-dataset={art / 'dataset'}",
    )
    run(
        sys.executable,
        "-m",
        "scripts.train_tokenizer",
        "--config-path=scripts/configs/train_tokenizer.yml",
        f"--basepath-to-hf-dataset={art / 'dataset'}",
        f"--filepath-to-store-tokenizer={art / 'tokenizer/tokenizer.json'}",
        "--min-freq=5",
        "--remove-frac=0.3",
    )
    config_path = tmp_path / "small.yml"
    base = yaml.safe_load((ROOT / "scripts/configs/train_model.yml").read_text())
    base["model"].update(embedding_dim=16, hidden_dim=16)
    config_path.write_text(yaml.safe_dump(base))
    name = "model=ffnn_layers=2_batch=32"
    run(
        sys.executable,
        "-m",
        "scripts.train_model",
        f"--config-path={config_path}",
        "--tokenizer-config-path=scripts/configs/train_tokenizer.yml",
        f"--basepath-to-hf-dataset={art / 'dataset'}",
        f"--tokenizer-filepath={art / 'tokenizer/tokenizer.json'}",
        "--model-type=ffnn",
        "--num-layers=2",
        "--batch-size=32",
        "--num-epochs=2",
        f"--basepath-to-store-results={art / 'experiments'}",
        f"--experiment-name={name}",
    )
    # The notebook's loading cell, verbatim in substance.
    tokenizer = Tokenizer()
    tokenizer.from_file(art / "tokenizer/tokenizer.json")
    config = yaml.safe_load((art / f"experiments/{name}/config.json").read_text())
    model = NERPredictor(
        vocab_size=tokenizer.vocab_size,
        padding_idx=tokenizer.token2id[tokenizer.pad_token],
        output_dim=len(NER_ENCODING_MAP) - 1,
        **config["model"],
    )
    checkpoint = torch.load(
        art / f"experiments/{name}/checkpoints/checkpoint_1.ckpt", map_location=torch.device("cpu")
    )
    model.load_state_dict(checkpoint["model_state_dict"])
    assert [n for n, _ in model.named_parameters()][:3] == [
        "embedding.embedding.weight",
        "model.input_hidden.weight",
        "model.input_hidden.bias",
    ]
    ckpt = art / f"experiments/{name}/checkpoints/checkpoint_1.ckpt"
    run(
        sys.executable,
        "-m",
        "scripts.make_submission",
        f"--ffnn-config-path={art / f'experiments/{name}/config.json'}",
        f"--basepath-to-hf-dataset={art / 'dataset'}",
        f"--tokenizer-filepath={art / 'tokenizer/tokenizer.json'}",
        f"--basepath-to-store-submission={art}",
        f"--pretrained-ffnn-checkpoint-or-model-filepath={ckpt}",
        "--leaderboard-submission",
    )
    with zipfile.ZipFile(art / "leaderboard_submission.zip") as archive:
        assert archive.namelist() == ["ffnn/test_preds.csv"]
    run(
        sys.executable,
        "-m",
        "scripts.make_submission",
        f"--basepath-to-hf-dataset={art / 'dataset'}",
        f"--tokenizer-filepath={art / 'tokenizer/tokenizer.json'}",
        f"--basepath-to-store-submission={art}",
        "--net-ids=ab123",
        "--milestone-submission",
    )
    with zipfile.ZipFile(art / "milestone_submission.zip") as archive:
        assert "ner/trainers/trainer.py" in archive.namelist() and "net_ids.txt" in archive.namelist()


def test_inspect_and_plots_from_the_terminal(trained, tmp_path):
    result = ner(
        "inspect",
        "--experiment",
        str(trained / "rnn"),
        "--text",
        "John lives in Paris",
        "--labels",
        "B-PER O O B-LOC",
        "--activations",
        str(tmp_path / "act.png"),
    )
    assert "is-unk?" in result.stdout and "Paris" in result.stdout
    assert (tmp_path / "act.png").read_bytes()[:4] == b"\x89PNG"
    ner("plot-data", "--dataset", str(trained / "dataset"), "--output-dir", str(tmp_path / "plots"))
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {"vocab_size.png", "sentence_lengths.png"}


def test_report_compares_runs(trained):
    result = ner("report", str(trained / "rnn"))
    assert "entity F1 weighted" in result.stdout and "rnn" in result.stdout


def test_document_consistency_gives_each_phrase_one_type_per_document(trained, tmp_path):
    """Trained on WikiNEuRal, tagging CoNLL-2003 news stories: mentions within a story agree."""
    require_data(CONLL)
    lines = (CONLL / "val.conll").read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("-DOCSTART-")]
    (tmp_path / "stories.conll").write_text("\n".join(lines[: starts[5]]) + "\n")
    data = read_file(tmp_path / "stories.conll")
    plain = predict_tags(open_run(trained / "rnn", document_consistency=False), data)
    harmonized = predict_tags(open_run(trained / "rnn", document_consistency=True), data)
    out = tmp_path / "tagged.conll"
    ner(
        "predict",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(tmp_path / "stories.conll"),
        "--output",
        str(out),
        "--document-consistency",
    )
    assert [line.split("\t")[1] for line in out.read_text().splitlines() if line] == [
        tag for tags in harmonized for tag in tags
    ]
    assert {s.document for s in data.sentences} == set(range(6))
    for document in range(6):
        members = [i for i, s in enumerate(data.sentences) if s.document == document]
        winners = majority_types([data.sentences[i].tokens for i in members], [plain[i] for i in members])
        for i in members:
            for entity_type, start, end in tag_spans(harmonized[i]):
                key = phrase(data.sentences[i].tokens[start : end + 1])
                assert winners.get(key, entity_type) == entity_type
    changed = [
        (p, h)
        for s, p_tags, h_tags in zip(data.sentences, plain, harmonized, strict=True)
        for p, h in zip(p_tags, h_tags, strict=True)
        if p != h
    ]
    assert all(h != "O" for _, h in changed)


def test_training_validates_in_three_casings_and_calibrates_its_scores(trained):
    run_dir = trained / "rnn"
    val = [json.loads(line)["metrics"] for line in (run_dir / "val_metrics.jsonl").read_text().splitlines()]
    assert all({"entity_f1_lower", "entity_f1_upper", "entity_f1_casings"} <= set(m) for m in val)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["augment"] == {"lower": 0.0, "upper": 0.0}
    assert config["train_and_eval"]["val_casings"] == ["as-is", "lower", "upper"]
    calibration = json.loads((run_dir / "calibration.json").read_text())
    assert calibration["temperature"] > 0 and calibration["after"]["ece"] <= calibration["before"]["ece"]
    assert open_run(run_dir).predictor.temperature == calibration["temperature"]


def test_evaluate_scores_any_casing_and_how_far_the_scores_can_be_trusted(trained, corpus):
    report_path, plot = trained / "lower.json", trained / "reliability.png"
    result = ner(
        "evaluate",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(corpus / "val_slice.conll"),
        "--casing",
        "lower",
        "--plot",
        str(plot),
        "--suggest-thresholds",
        "--json",
        str(report_path),
    )
    assert "metrics (lower)" in result.stdout and "ECE" in result.stdout and "--min-score" in result.stdout
    report = json.loads(report_path.read_text())
    assert report["casing"] == "lower" and 0.0 <= report["calibration"]["ece"] <= 1.0
    assert set(report["thresholds"]) >= {"PER", "LOC"} and set(report["suggested_thresholds"]) >= {"PER"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    as_written = ner(
        "evaluate", "--experiment", str(trained / "rnn"), "--input", str(corpus / "val_slice.conll")
    )
    assert as_written.stdout != result.stdout
    refused = ner(
        "evaluate",
        "--experiment",
        str(trained / "rnn"),
        "--input",
        str(corpus / "val_slice.conll"),
        "--target-precision",
        "0.9",
        expect=2,
    )
    assert "--suggest-thresholds" in refused.stderr and refused.stderr.count("\n") == 1


def test_calibrate_fits_a_runs_scores_again(trained, tmp_path):
    import shutil

    copy = tmp_path / "old-run"
    shutil.copytree(trained / "rnn", copy)
    fitted = json.loads((copy / "calibration.json").read_text())
    (copy / "calibration.json").unlink()
    assert open_run(copy).predictor.temperature == 1.0
    result = ner("calibrate", str(copy), "--dataset", str(trained / "dataset"))
    assert "temperature" in result.stderr
    again = json.loads((copy / "calibration.json").read_text())
    assert again["temperature"] == pytest.approx(fitted["temperature"], rel=1e-3)
    refused = ner("calibrate", str(copy), "--dataset", str(trained / "dataset"), "--split", "nope", expect=2)
    assert "no labelled nope split" in refused.stderr
