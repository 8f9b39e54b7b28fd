"""The packaged transformer as a token representation: WordPieces in segments that fit its positions,
words pooled from their pieces, its own learning rate, and a run that trains and predicts offline."""

import json
import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip("transformers", reason="needs the transformer extra")

from ner.data_processing.data_collator import DataCollator  # noqa: E402
from ner.data_processing.tokenizer import Tokenizer  # noqa: E402
from ner.data_processing.word_pieces import WordPieces  # noqa: E402
from ner.models.ner_predictor import NERPredictor  # noqa: E402
from ner.nn.embeddings.transformer import TransformerEmbedding  # noqa: E402
from ner.workflows.training import parameter_groups  # noqa: E402
from tests.conftest import ROOT

SENTENCE = ["EU", "rejects", "German", "call", "to", "boycott", "Kaliningrad", "lamb", "."]


@pytest.fixture(scope="module")
def part():
    return TransformerEmbedding("minilm", "first").eval()


def encode(pieces, sentences, length):
    slots = [[row * length + i for i in range(len(s))] for row, s in enumerate(sentences)]
    return {k: torch.from_numpy(v) for k, v in pieces.segments(sentences, slots).items()}


def test_every_word_gets_pieces_and_unknown_ones_get_unk():
    pieces = WordPieces("minilm")
    words = pieces.word_pieces([["Kaliningrad", "\u200b", "lamb"]])[0]
    assert len(words[0]) > 1 and words[1] == [pieces.unk] and len(words[2]) == 1


def test_a_long_sentence_is_spread_over_segments_of_whole_words():
    pieces = WordPieces("minilm", max_pieces=510)
    sentence = ["Kaliningrad"] * 300
    per_word = len(pieces.word_pieces([["Kaliningrad"]])[0][0])
    batch = encode(pieces, [sentence], len(sentence))
    ids, owners = batch["piece_ids"], batch["piece_word"]
    assert per_word * 300 > 512 and ids.shape[0] == -(-300 // (510 // per_word)) and ids.shape[1] <= 512
    assert (ids[:, 0] == pieces.cls).all()
    real = owners[owners >= 0]
    assert sorted(set(real.tolist())) == list(range(300))
    for row in owners:  # no word is split across segments
        words = set(row[row >= 0].tolist())
        assert all((owners == w).any(axis=1).sum() == 1 for w in words)


def test_words_read_the_same_vectors_in_any_segment(part):
    long = WordPieces("minilm", max_pieces=8)
    whole = WordPieces("minilm")
    sentences = [SENTENCE, SENTENCE[:3]]
    batch = encode(long, sentences, 9)
    assert batch["piece_ids"].shape[0] == 3
    segment = sorted(set(batch["piece_word"][0][batch["piece_word"][0] >= 0].tolist()))
    with torch.no_grad():
        split = part(**batch, grid=(2, 9))
        alone = part(**encode(whole, [SENTENCE[: len(segment)]], len(segment)), grid=(1, len(segment)))
    assert segment == list(range(len(segment))) and 3 < len(segment) < len(SENTENCE)
    assert torch.allclose(split[0, : len(segment)], alone[0], atol=1e-5)
    assert split[1, 3:].abs().sum() == 0  # padding positions stay zero


def test_mean_pooling_averages_a_words_pieces(part):
    pieces = WordPieces("minilm")
    batch = encode(pieces, [SENTENCE], len(SENTENCE))
    mean = TransformerEmbedding("minilm", "mean").eval()
    with torch.no_grad():
        hidden = mean.encoder(input_ids=batch["piece_ids"]).last_hidden_state[0]
        words = mean(**batch, grid=(1, len(SENTENCE)))[0]
        firsts = part(**batch, grid=(1, len(SENTENCE)))[0]
    owner = batch["piece_word"][0]
    kaliningrad = SENTENCE.index("Kaliningrad")
    assert torch.allclose(words[kaliningrad], hidden[owner == kaliningrad].mean(dim=0), atol=1e-5)
    assert torch.allclose(firsts[kaliningrad], hidden[owner == kaliningrad][0], atol=1e-5)


def test_the_collator_gives_pieces_that_follow_left_padding():
    tokenizer = Tokenizer()
    tokenizer.train({"text": [SENTENCE]}, "text")
    collator = DataCollator(tokenizer, padding_side="left", word_pieces="minilm")
    batch = collator([{"text": SENTENCE}, {"text": SENTENCE[:2]}])
    owners = batch["piece_word"]
    assert set(owners[1][owners[1] >= 0].tolist()) == {len(SENTENCE) * 2 - 2, len(SENTENCE) * 2 - 1}


def test_the_transformer_learns_at_its_own_rate():
    model = NERPredictor(10, 4, 0, None, 9, model="none", transformer="minilm", head="crf")
    groups = parameter_groups(model, 2e-5)
    assert len(groups) == 2 and groups[1]["lr"] == 2e-5
    assert sum(p.numel() for p in groups[1]["params"]) == sum(
        p.numel() for p in model.transformer.parameters()
    )


@pytest.mark.e2e
def test_a_transformer_run_trains_and_predicts_offline(tmp_path):
    from tests.helpers import write_corpus

    corpus = write_corpus(tmp_path / "corpus", sentences=16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def ner(*args):
        result = subprocess.run(
            [sys.executable, "-m", "ner.cli", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    ner("create-dataset", corpus, tmp_path / "dataset")
    ner("train-tokenizer", "--dataset", tmp_path / "dataset", "--output", tmp_path / "tok.json")
    run = tmp_path / "run"
    ner(
        "train",
        "--dataset",
        tmp_path / "dataset",
        "--tokenizer",
        tmp_path / "tok.json",
        "--preset",
        "minilm-crf",
        "--output",
        run,
        "--no-progress",
        "--set",
        "word_vectors.source=null",
        "--set",
        "train_and_eval.num_epochs=3",
        "--set",
        "train_and_eval.batch_size=4",
        "--set",
        "optimizer.transformer_lr=1.0e-4",
    )
    best = json.loads((run / "best.json").read_text())
    assert best["value"] > 0.9
    text = tmp_path / "in.txt"
    text.write_text("Anna Smith lives in Rome near Acme Corp .\n")
    ner("predict", "--experiment", run, "--input", text, "--output", tmp_path / "out.jsonl")
    entities = json.loads((tmp_path / "out.jsonl").read_text())["entities"]
    assert [(e["text"], e["label"]) for e in entities] == [
        ("Anna Smith", "PER"),
        ("Rome", "LOC"),
        ("Acme Corp", "ORG"),
    ]
