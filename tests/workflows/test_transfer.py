"""Fine-tuning on other entity types: `ner train --init RUN` keeps what the run learnt for the types and
words it knows, starts new ones fresh, and records where it started from."""

import json

import pytest
import torch

from ner.cli import PRESET_DIR
from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import build_model
from ner.models.transfer import transfer_weights
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config
from ner.utils.utils import set_seed
from tests.helpers import ner


def tagger(labels: list[str], words: list[str], seed: int):
    tokenizer = Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1} | {w: i + 2 for i, w in enumerate(words)})
    overrides = {"model": {"encoder": {"hidden_dim": 8}, "embedding_dim": 8, "chars": {"filters": 4}}}
    overrides["labels"] = labels
    config = load_config(TrainConfig, [PRESET_DIR / "bilstm-crf.yml"], [overrides])
    set_seed(seed)
    return build_model(config, tokenizer), tokenizer


def test_known_types_and_words_keep_their_weights_and_new_ones_start_fresh():
    source, source_tok = tagger(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], ["Anna", "Rome", "the"], seed=1)
    target, target_tok = tagger(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"], ["the", "Acme", "Rome"], seed=2)
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    old = source.state_dict()
    transfer = transfer_weights(target, target_tok, old, source, source_tok, "source")
    assert transfer.types_kept == ["LOC"] and transfer.types_new == ["ORG"]
    new = target.state_dict()
    old_index, new_index = source.head.scheme.index, target.head.scheme.index
    for tag in ("O", "B-LOC", "I-LOC"):
        i, j = old_index[tag], new_index[tag]
        assert torch.equal(new["head.projection.weight"][j], old["head.projection.weight"][i])
        assert new["head.crf.start_transitions"][j] == old["head.crf.start_transitions"][i]
    j_loc, i_loc, j_o, i_o = new_index["B-LOC"], old_index["B-LOC"], new_index["O"], old_index["O"]
    assert new["head.crf.transitions"][j_o, j_loc] == old["head.crf.transitions"][i_o, i_loc]
    for tag in ("B-ORG", "I-ORG"):
        j = new_index[tag]
        assert torch.equal(new["head.projection.weight"][j], fresh["head.projection.weight"][j])
    rows = "embedding.embedding.weight"
    assert torch.equal(new[rows][target_tok.token2id["Rome"]], old[rows][source_tok.token2id["Rome"]])
    assert torch.equal(new[rows][target_tok.token2id["Acme"]], fresh[rows][target_tok.token2id["Acme"]])
    assert torch.equal(new["model.encoder.weight_ih_l0"], old["model.encoder.weight_ih_l0"])
    assert transfer.words_kept == 4 and transfer.words_new == 1  # pad, unk, the, Rome


@pytest.mark.e2e
def test_train_init_from_a_run_with_other_types(tmp_path):
    base = [
        "--preset",
        "bilstm-crf",
        "--no-progress",
        "--set",
        "model.encoder.hidden_dim=16",
        "--set",
        "train_and_eval.num_epochs=2",
    ]
    for name, tags in (("old", "B-PER I-PER O O B-LOC"), ("new", "B-PER I-PER O O B-GPE")):
        corpus = tmp_path / f"{name}-corpus"
        corpus.mkdir()
        block = "".join(
            f"{w}\t{t}\n" for w, t in zip("Anna Smith lives in Rome".split(), tags.split(), strict=True)
        )
        for split in ("train", "val"):
            (corpus / f"{split}.conll").write_text("\n".join([block] * 20))
        ner("create-dataset", corpus, tmp_path / f"{name}-dataset")
        ner(
            "train-tokenizer",
            "--dataset",
            tmp_path / f"{name}-dataset",
            "--output",
            tmp_path / f"{name}.json",
        )

    def train(name: str, *args: object, expect: int = 0):
        data = "old" if name == "old" else "new"
        paths = ("--dataset", tmp_path / f"{data}-dataset", "--tokenizer", tmp_path / f"{data}.json")
        return ner("train", *paths, "--output", tmp_path / name, *base, *args, expect=expect)

    train("old")
    train(
        "new",
        "--init",
        tmp_path / "old",
        "--rehearse-data",
        tmp_path / "old-dataset",
        "--set",
        "rehearse.share=0",
    )
    record = json.loads((tmp_path / "new" / "init.json").read_text())
    # The old run has the notebook's nine labels; the types the new data lacks are rehearsed: they stay
    # among the labels, keep their weights and are measured before and after.
    assert record["types_kept"] == ["LOC", "MISC", "ORG", "PER"] and record["types_new"] == ["GPE"]
    assert record["run"] == str((tmp_path / "old").resolve())
    rehearsal = record["rehearsal"]
    assert rehearsal["types_rehearsed"] == ["LOC", "MISC", "ORG"] and rehearsal["pseudo_labels"]
    assert set(rehearsal["f1"]["before"]) == set(rehearsal["f1"]["after"]) == {"LOC", "MISC", "ORG", "PER"}
    assert all(0.0 <= f1 <= 1.0 for f1 in rehearsal["f1"]["after"].values())
    assert rehearsal["pseudo_entities_train"] >= 0 and rehearsal["data"] == str(tmp_path / "old-dataset")
    labels = json.loads((tmp_path / "new" / "config.json").read_text())["labels"]
    assert labels == ["O"] + [f"{p}-{t}" for t in ("GPE", "LOC", "MISC", "ORG", "PER") for p in "BI"]
    train("forgetful", "--init", tmp_path / "old", "--no-pseudo-labels")
    record = json.loads((tmp_path / "forgetful" / "init.json").read_text())
    assert not record["rehearsal"]["pseudo_labels"] and "pseudo_entities_train" not in record["rehearsal"]
    result = train("other", "--init", tmp_path / "old", "--set", "model.encoder.hidden_dim=32", expect=2)
    assert "model.encoder.hidden_dim" in result.stderr and "16 -> 32" in result.stderr
    result = train("lost", "--rehearse-data", tmp_path / "old-dataset", expect=2)
    assert "rehearse.data" in result.stderr and "--init RUN" in result.stderr


def test_rehearsal_merges_predicted_entities_of_missing_types_where_gold_is_silent():
    from ner.workflows.rehearsal import merged_tags

    gold = ["B-GPE", "I-GPE", "O", "O", "O", "O"]
    predicted = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "B-ORG"]
    assert merged_tags(gold, predicted, {"PER", "LOC"}) == ["B-GPE", "I-GPE", "O", "B-LOC", "I-LOC", "O"]
    assert merged_tags(["O", "B-GPE"], ["B-LOC", "I-LOC"], {"LOC"}) == ["O", "B-GPE"]
