"""Data-parallel training over torch.distributed, with real gloo processes on this machine: each step
keeps the processes' weights equal and equal to one process stepping on the whole global batch, and
`ner train --nproc 2` trains as well as one process, writes its run once and resumes."""

import json
import os
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ner.cli import PRESET_DIR
from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import build_collator, build_model
from ner.runtime.run_config import TrainConfig
from ner.trainers.distributed import current_world
from ner.trainers.trainer import Trainer
from ner.utils.config import load_config
from ner.utils.utils import set_seed
from tests.conftest import ROOT
from tests.helpers import conll_slice as write_conll_slice
from tests.helpers import ner
from tests.helpers import train_glove as train

pytestmark = pytest.mark.e2e

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SENTENCES = [
    ("Angela Merkel visited Paris .", "B-PER I-PER O B-LOC O"),
    ("The United Nations met in New York on Monday .", "O B-ORG I-ORG O O B-LOC I-LOC O O O"),
    ("Obama spoke .", "B-PER O O"),
    (
        "Siemens and Acme Corp opened offices in Berlin and Munich last year .",
        "B-ORG O B-ORG I-ORG O O O B-LOC O B-LOC O O O",
    ),
    ("Rain .", "O O"),
    ("John Smith of Reuters reported from London .", "B-PER I-PER O B-ORG O O B-LOC O"),
    ("Paris is nice .", "B-LOC O O O"),
    ("He said that the company would move to Berlin .", "O O O O O O O O B-LOC O"),
]
STEPS = 4


def examples() -> list[dict]:
    return [{"text": text.split(), "NER": tags.split()} for text, tags in SENTENCES]


def global_batch(step: int) -> list[dict]:
    """The step's global batch: four sentences of unequal lengths."""
    data = examples()
    return [data[(step * 3 + i) % len(data)] for i in range(4)]


def make_trainer() -> tuple[Trainer, object]:
    """A small BiLSTM-CRF with byte CNN and casing, no dropout, and its collator, seeded identically."""
    words = sorted({w for e in examples() for w in e["text"]})
    tokenizer = Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1} | {w: i + 2 for i, w in enumerate(words)})
    overrides = {
        "model": {
            "dropout": 0.0,
            "word_dropout": 0.0,
            "encoder": {"hidden_dim": 16, "dropout": 0.0},
            "embedding_dim": 16,
            "chars": {"filters": 8},
        },
        "labels": LABELS,
    }
    config = load_config(TrainConfig, [PRESET_DIR / "bilstm-crf.yml"], [overrides])
    set_seed(0)
    model = build_model(config, tokenizer)
    collator = build_collator(config, tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    trainer = Trainer(model, optimizer, collator, examples(), grad_clip_max_norm=1.0, progress=False)
    return trainer, collator


def flat_weights(trainer: Trainer) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in trainer.model.parameters()])


def rank_steps(rank: int, world_size: int, init_file: str, out_dir: str) -> None:
    """One of two processes: step on its half of each global batch; after each step, all processes'
    weights are written for the test to compare."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        trainer, collator = make_trainer()
        assert trainer.world == current_world() and trainer.world.size == world_size
        for step in range(STEPS):
            trainer.train_step(collator(global_batch(step)[rank::world_size]))
            weights = flat_weights(trainer)
            gathered = [torch.empty_like(weights) for _ in range(world_size)]
            dist.all_gather(gathered, weights)
            if rank == 0:
                torch.save(torch.stack(gathered), os.path.join(out_dir, f"step{step}.pt"))
        # Both processes are done before either tears the group down (gloo can abort a process whose
        # peer leaves while it is still closing its side).
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_two_processes_step_as_one_process_on_the_global_batch(tmp_path):
    mp.spawn(rank_steps, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    trainer, collator = make_trainer()
    start = flat_weights(trainer)
    for step in range(STEPS):
        trainer.train_step(collator(global_batch(step)))
        ranks = torch.load(tmp_path / f"step{step}.pt")
        assert torch.equal(ranks[0], ranks[1]), f"ranks differ after step {step}"
        # Float32 sums in another order (two halves all-reduced) move Adam's steps of near-zero gradients
        # by up to about 1e-6 on AVX2 kernels; weighting the halves wrongly moves weights by 2e-2.
        assert (ranks[0] - flat_weights(trainer)).abs().max() <= 1e-5, f"step {step}"
    assert (flat_weights(trainer) - start).abs().max() > 1e-3


def test_uneven_halves_are_weighted_by_their_tokens():
    """The halves of a global batch differ in length, so a plain average of their mean losses would not
    be the global mean: the test above holds only because each half is weighted by its tokens."""
    lengths = [[len(e["text"]) for e in global_batch(s)[r::2]] for s in range(STEPS) for r in range(2)]
    assert any(sum(a) != sum(b) for a, b in zip(lengths[::2], lengths[1::2], strict=True))


@pytest.fixture(scope="module")
def conll_slice(tmp_path_factory):
    return write_conll_slice(tmp_path_factory.mktemp("data-parallel"), 60, 20)


def best_f1(run) -> float:
    return json.loads((run / "best.json").read_text())["value"]


@pytest.mark.e2e
def test_two_processes_reach_the_validation_f1_of_one_at_the_same_global_batch(conll_slice):
    epochs = ("--set", "train_and_eval.num_epochs=15")
    train(conll_slice, "one", *epochs, "--set", "train_and_eval.batch_size=64")
    result = train(conll_slice, "two", *epochs, "--set", "train_and_eval.batch_size=32", "--nproc", "2")
    assert "data-parallel training: 2 processes" in result.stderr
    assert result.stderr.count("best epoch") == 1, "only the main process prints"
    one, two = best_f1(conll_slice / "one"), best_f1(conll_slice / "two")
    assert one > 0.7
    assert abs(one - two) <= 0.01, (one, two)
    epochs_logged = [json.loads(line)["epoch"] for line in (conll_slice / "two" / "val_metrics.jsonl").open()]
    assert epochs_logged == list(range(15)), "one process alone logs each epoch once"
    ner("evaluate", "--experiment", conll_slice / "two", "--input", conll_slice / "corpus" / "val.conll")


@pytest.mark.e2e
def test_a_two_process_run_resumes_exactly(conll_slice):
    args = (
        "--set",
        "train_and_eval.num_epochs=3",
        "--set",
        "train_and_eval.keep_checkpoints=0",
        "--nproc",
        "2",
    )
    train(conll_slice, "whole", *args)
    train(conll_slice, "cut", *args)
    run = conll_slice / "cut"
    checkpoints = sorted((run / "checkpoints").iterdir())
    checkpoints[-1].unlink()
    train(conll_slice, "cut", "--resume", "--nproc", "2")
    whole = (conll_slice / "whole" / "val_metrics.jsonl").read_text().splitlines()
    resumed = (run / "val_metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["metrics"] for line in resumed] == [
        json.loads(line)["metrics"] for line in whole
    ]


def test_nproc_refuses_a_bad_count_and_a_torchrun_process(tmp_path):
    result = ner(
        "train",
        "--dataset",
        tmp_path,
        "--tokenizer",
        tmp_path / "t.json",
        "--output",
        tmp_path / "r",
        "--nproc",
        "0",
        expect=2,
    )
    assert "--nproc" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.e2e
def test_failures_are_reported_in_one_line(conll_slice):
    train(conll_slice, "taken", "--set", "train_and_eval.num_epochs=1")
    result = train(conll_slice, "taken", "--nproc", "2", expect=2)
    assert "already holds a run" in result.stderr and "Traceback" not in result.stderr
    (conll_slice / "broken").mkdir()
    result = ner(
        "train",
        "--dataset",
        conll_slice / "broken",
        "--tokenizer",
        conll_slice / "tok.json",
        "--output",
        conll_slice / "never",
        "--nproc",
        "2",
        expect=2,
    )
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: training process") and "broken" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_torchrun_trains_as_nproc_does(conll_slice):
    args = ("--set", "train_and_eval.num_epochs=2")
    train(conll_slice, "launched", *args, "--nproc", "2")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["-m", "ner.cli", "train", "--dataset", str(conll_slice / "dataset")]
    command += ["--tokenizer", str(conll_slice / "tok.json"), "--preset", "glove-bilstm-crf"]
    command += ["--output", str(conll_slice / "torchrun"), "--no-progress", *args]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=os.environ | {"OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert "data-parallel training: 2 processes" in result.stderr
    for name in ("val_metrics.jsonl", "train_metrics.jsonl"):
        torchrun = [json.loads(line)["metrics"] for line in (conll_slice / "torchrun" / name).open()]
        launched = [json.loads(line)["metrics"] for line in (conll_slice / "launched" / name).open()]
        assert torchrun == launched
