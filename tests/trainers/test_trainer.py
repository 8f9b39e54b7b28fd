import datasets
import pytest
import torch
from torch.optim import AdamW
from torch.utils.data import DataLoader

from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.predictor import Predictor
from ner.models.ner_predictor import NERPredictor
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.trainers.tracker import ExperimentTracker
from ner.trainers.trainer import Trainer, bucketed_batches, epochs_within

TRAIN = {
    "text": [["Paris", "is", "big"], ["Anna", "Smith", "lives", "in", "Rome"], ["Acme", "Corp", "hires"]] * 6,
    "NER": [["B-LOC", "O", "O"], ["B-PER", "I-PER", "O", "O", "B-LOC"], ["B-ORG", "I-ORG", "O"]] * 6,
    "index": [["0", "1", "2"], ["3", "4", "5", "6", "7"], ["8", "9", "10"]] * 6,
}


@pytest.fixture
def data():
    dataset = datasets.Dataset.from_dict(TRAIN)
    tokenizer = Tokenizer().train(dataset)
    return dataset, tokenizer, DataCollator(tokenizer)


def make_trainer(data, tracker=None, model_type="rnn", seed=0, lr_schedule="constant", lr=0.05):
    dataset, tokenizer, collator = data
    torch.manual_seed(seed)
    model = NERPredictor(tokenizer.vocab_size, 8, tokenizer.pad_id, 8, 9, model=model_type, num_layers=2)
    return Trainer(
        model,
        AdamW(model.parameters(), lr=lr),
        collator,
        dataset,
        dataset,
        grad_clip_max_norm=1.0,
        use_class_weights=True,
        tracker=tracker,
        progress=False,
        lr_schedule=lr_schedule,
    )


def test_notebook_stub_model_runs_one_epoch(data):
    dataset, tokenizer, collator = data
    model = TokenEmbedding(tokenizer.vocab_size, 9, tokenizer.pad_id)
    trainer = Trainer(model, AdamW(model.parameters()), collator, dataset, progress=False)
    metrics = trainer._train_epoch(DataLoader(dataset, collate_fn=collator, batch_size=1))
    assert {"loss", "precision", "recall", "accuracy", "f1", "entity_f1", "entity_f1_micro"} <= set(metrics)
    assert metrics["loss"] > 0


def test_training_learns_and_writes_run_files(data, tmp_path):
    tracker = ExperimentTracker(tmp_path / "run")
    history = make_trainer(data, tracker).train_and_eval(batch_size=4, num_epochs=6)
    assert history[-1]["val"]["entity_f1"] == 1.0
    assert [r["epoch"] for r in tracker.read_metrics("val")] == list(range(6))
    best = tracker.best()
    assert set(tracker.checkpoints()) == {5, best["epoch"]}  # the last (to resume) and the best
    assert best["value"] == max(r["metrics"]["entity_f1"] for r in tracker.read_metrics("val"))
    assert tracker.model_path.exists()


def test_a_fifteen_epoch_run_keeps_at_most_three_checkpoints(data, tmp_path):
    tracker = ExperimentTracker(tmp_path / "long")
    make_trainer(data, tracker).train_and_eval(batch_size=4, num_epochs=15)
    assert 1 <= len(tracker.checkpoints()) <= 3
    assert {14, tracker.best()["epoch"]} == set(tracker.checkpoints())


def test_keep_checkpoints_keeps_the_newest_and_the_best(data, tmp_path):
    tracker = ExperimentTracker(tmp_path / "all")
    make_trainer(data, tracker).train_and_eval(batch_size=4, num_epochs=4, keep_checkpoints=0)
    assert set(tracker.checkpoints()) == set(range(4))
    tracker.prune_checkpoints(2, also_keep=0)
    assert set(tracker.checkpoints()) == {0, 2, 3}


def test_epochs_within_a_time_budget():
    assert epochs_within(100.0, 30.0, epoch=0, start_epoch=0) == 3  # 30 s an epoch: two more fit
    assert epochs_within(100.0, 30.0, epoch=4, start_epoch=4) == 7  # counted from a resumed epoch
    assert epochs_within(10.0, 30.0, epoch=0, start_epoch=0) == 1  # the first epoch always counts
    assert epochs_within(90.0, 90.0, epoch=2, start_epoch=0) == 3


def test_time_budget_plans_fewer_epochs_and_resume_keeps_the_plan(data, tmp_path):
    tracker = ExperimentTracker(tmp_path / "budget")
    trainer = make_trainer(data, tracker)
    history = trainer.train_and_eval(batch_size=4, num_epochs=6, max_minutes=0.0)
    assert [h["epoch"] for h in history] == [0]
    assert trainer.planned_epochs == 1
    resumed = make_trainer(data, tracker).from_checkpoint(tracker.checkpoint_path(0))
    assert resumed.planned_epochs == 1
    assert resumed.train_and_eval(batch_size=4, num_epochs=6) == []


def test_patience_stops_once_val_f1_has_not_improved_for_that_many_epochs(data, tmp_path):
    tracker = ExperimentTracker(tmp_path / "flat")
    history = make_trainer(data, tracker, lr=0.0).train_and_eval(batch_size=4, num_epochs=10, patience=2)
    assert [h["epoch"] for h in history] == [0, 1, 2]  # epochs 1 and 2 did not improve on epoch 0
    assert tracker.best()["epoch"] == 0


def test_a_crf_head_refuses_class_weights(data):
    dataset, tokenizer, collator = data
    model = NERPredictor(tokenizer.vocab_size, 8, tokenizer.pad_id, 8, 9, model="gru", head="crf")
    with pytest.raises(ValueError, match="takes no class weights"):
        Trainer(model, AdamW(model.parameters()), collator, dataset, use_class_weights=True, progress=False)


def test_class_weights_are_balanced(data):
    trainer = make_trainer(data)
    weights = trainer.class_weights
    assert weights[0] < weights[1]  # O is far more frequent than B-ORG
    assert weights.shape == (9,)


def _interrupt():
    raise KeyboardInterrupt


@pytest.mark.parametrize("schedule", ["constant", "linear"])
def test_resume_from_checkpoint_gives_the_same_weights(data, tmp_path, schedule):
    full = make_trainer(data, ExperimentTracker(tmp_path / "full"), lr_schedule=schedule)
    full.train_and_eval(batch_size=4, num_epochs=4)
    half_tracker = ExperimentTracker(tmp_path / "half")
    half = make_trainer(data, half_tracker, lr_schedule=schedule)
    epochs_run, train_epoch = [], half._train_epoch
    half._train_epoch = lambda loader: (
        (epochs_run.append(1) if len(epochs_run) < 2 else _interrupt()) or train_epoch(loader)
    )
    with pytest.raises(KeyboardInterrupt):
        half.train_and_eval(batch_size=4, num_epochs=4)
    resumed = make_trainer(data, half_tracker, seed=99, lr_schedule=schedule)
    resumed.from_checkpoint(half_tracker.checkpoint_path(1))
    assert resumed.start_epoch == 2
    resumed.train_and_eval(batch_size=4, num_epochs=4)
    for (name, a), b in zip(
        full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert half_tracker.read_metrics("val") == full.tracker.read_metrics("val")


def test_identical_runs_write_identical_metrics(data, tmp_path):
    for name in ("a", "b"):
        make_trainer(data, ExperimentTracker(tmp_path / name)).train_and_eval(batch_size=4, num_epochs=2)
    for split in ("train", "val"):
        a = (tmp_path / "a" / f"{split}_metrics.jsonl").read_bytes()
        assert a == (tmp_path / "b" / f"{split}_metrics.jsonl").read_bytes()


def test_test_spans_use_the_index_column(data):
    dataset, tokenizer, collator = data
    trainer = make_trainer(data)
    trainer.train_and_eval(batch_size=4, num_epochs=6)
    spans = Trainer.test(
        dataset.remove_columns("NER").select(range(3)), collator, trainer.model, batch_size=2
    )
    assert spans["LOC"] == ["0-0", "7-7"] and spans["PER"] == ["3-4"] and spans["ORG"] == ["8-9"]


def test_bucketed_batches_cover_every_example_once():
    examples = [{"text": ["x"] * (i % 7 + 1)} for i in range(103)]
    batches = bucketed_batches(examples, "text", 8, torch.Generator().manual_seed(0), True)
    assert sorted(i for b in batches for i in b) == list(range(103))
    assert all(len(b) <= 8 for b in batches)


def test_bfloat16_prediction_agrees_with_float32(data):
    dataset, _, collator = data
    trainer = make_trainer(data)
    trainer.train_and_eval(batch_size=4, num_epochs=6)
    labels = trainer.predictor.labels
    full = Predictor(trainer.model, collator, labels).tag(TRAIN["text"][:3])
    assert Predictor(trainer.model, collator, labels, "bfloat16").tag(TRAIN["text"][:3]) == full
    assert full == TRAIN["NER"][:3]


def test_validation_scores_each_casing_and_the_best_epoch_can_be_chosen_on_their_mean(data, tmp_path):
    dataset, tokenizer, collator = data
    torch.manual_seed(0)
    model = NERPredictor(tokenizer.vocab_size, 8, tokenizer.pad_id, 8, 9, model="lstm")
    tracker = ExperimentTracker(tmp_path / "run")
    trainer = Trainer(
        model,
        AdamW(model.parameters(), lr=0.05),
        collator,
        dataset,
        dataset,
        tracker=tracker,
        progress=False,
        val_casings=["as-is", "lower", "upper"],
        best_metric="entity_f1_casings",
    )
    history = trainer.train_and_eval(batch_size=4, num_epochs=4)
    val = [h["val"] for h in history]
    for metrics in val:
        assert {
            "entity_f1_lower",
            "entity_f1_upper",
            "entity_f1_micro_lower",
            "entity_f1_micro_upper",
        } <= set(metrics)
        mean = (metrics["entity_f1"] + metrics["entity_f1_lower"] + metrics["entity_f1_upper"]) / 3
        assert metrics["entity_f1_casings"] == pytest.approx(mean)
    # The vocabulary has no lower- or upper-cased forms and no case backoff: recased words are unknown.
    assert val[-1]["entity_f1"] == 1.0 and val[-1]["entity_f1_lower"] < 1.0
    best = tracker.best()
    assert best["metric"] == "val_entity_f1_casings"
    assert best["value"] == max(m["entity_f1_casings"] for m in val)
    with pytest.raises(ValueError, match="as-is"):
        Trainer(model, AdamW(model.parameters()), collator, dataset, dataset, val_casings=["lower"])
