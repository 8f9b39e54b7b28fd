"""A tagger is composed of parts picked by name from registries; each encoder returns hidden states."""

import typing

import pytest
import torch
from torch import nn

from ner.data_processing.batch import Batch
from ner.models.ner_predictor import NERPredictor, upgrade_weight_names
from ner.nn.embeddings import CASING_FEATURES, CHARACTER_ENCODERS, TRANSFORMERS
from ner.nn.heads import HEADS
from ner.nn.models import ENCODERS
from ner.nn.module import Module
from ner.utils.config import ModelConfig, upgrade_model_settings
from ner.utils.errors import ConfigError


def test_the_config_offers_exactly_the_registered_parts():
    fields = ModelConfig.model_fields
    assert list(typing.get_args(fields["model"].annotation)) == list(ENCODERS)
    assert list(typing.get_args(fields["head"].annotation)) == list(HEADS)
    assert list(typing.get_args(fields["chars"].annotation)) == ["none", *CHARACTER_ENCODERS]
    assert list(typing.get_args(fields["casing"].annotation)) == ["none", *CASING_FEATURES]
    assert list(typing.get_args(fields["transformer"].annotation)) == ["none", *TRANSFORMERS]


@pytest.mark.parametrize("name", list(ENCODERS))
def test_each_encoder_returns_hidden_states_of_its_output_size(name):
    settings = ModelConfig(model=name, hidden_dim=6, num_layers=2).model_dump()
    encoder = ENCODERS[name].from_settings(5, settings)
    hidden = encoder(torch.randn(3, 4, 5), torch.zeros(3, 4, dtype=torch.long))
    assert hidden.shape == (3, 4, encoder.output_size)
    assert not hasattr(encoder, "hidden_output")  # the head owns the output layer


@pytest.mark.parametrize("head", list(HEADS))
def test_every_encoder_and_head_compose_into_a_tagger_that_learns(head):
    ids, labels = torch.tensor([[2, 3, 4], [5, 2, 0]]), torch.tensor([[3, 4, 0], [5, 0, -100]])
    mask = (labels == -100).long()
    for name in ENCODERS:
        torch.manual_seed(0)
        chars_part = "cnn" if name in ("ffnn", "lstm", "elman") else "bilstm"
        tagger = NERPredictor(
            8, 4, 0, 6, 9, model=name, head=head, chars=chars_part, char_filters=3, char_hidden=2
        )
        words, index = torch.randint(1, 50, (6, 5)), torch.arange(6).reshape(2, 3)
        optimizer = torch.optim.Adam(tagger.parameters(), lr=0.05)
        for _ in range(40):
            optimizer.zero_grad()
            loss = tagger.loss(
                tagger(Batch(ids, mask, char_words=words, char_index=index)), labels, mask == 0
            )
            loss.backward()
            optimizer.step()
        tagger.eval()
        tags = tagger.decode(tagger(Batch(ids, mask, char_words=words, char_index=index)), mask == 0)
        assert tags[0].tolist() == [3, 4, 0] and tags[1, :2].tolist() == [5, 0], name


def test_a_new_encoder_is_one_class_and_one_registry_line(monkeypatch):
    class Mean(Module):
        """Each token's vector averaged with the sentence's mean."""

        def __init__(self, input_dim: int):
            super().__init__()
            self.output_size = input_dim

        @classmethod
        def from_settings(cls, input_dim, settings):
            return cls(input_dim)

        def forward(self, embeddings, padding_mask=None):
            return (embeddings + embeddings.mean(dim=1, keepdim=True)) / 2

    monkeypatch.setitem(ENCODERS, "mean", Mean)
    tagger = NERPredictor(8, 4, 0, 6, 9, model="mean")
    ids = torch.tensor([[2, 3]])
    assert isinstance(tagger.model, Mean) and tagger(Batch(ids, torch.zeros_like(ids))).shape == (1, 2, 9)


def test_the_notebooks_output_layer_is_the_heads_projection_saved_once():
    tagger = NERPredictor(8, 4, 0, 6, 9, model="rnn")
    assert tagger.model.hidden_output is tagger.head.projection
    names = list(tagger.state_dict())
    assert "head.projection.weight" in names and not any("hidden_output" in n for n in names)


def test_a_setting_never_swaps_the_encoder_class():
    plain = NERPredictor(8, 4, 0, 6, 9, model="rnn")
    dropped = NERPredictor(8, 4, 0, 6, 9, model="rnn", dropout=0.5)
    assert type(plain.model) is type(dropped.model)
    assert set(plain.state_dict()) == set(dropped.state_dict())


def test_settings_and_weights_of_earlier_versions_read_as_todays():
    old = {"model": "rnn", "cell": "lstm", "bidirectional": True, "decoder": "crf", "char_filters": 6}
    assert upgrade_model_settings(old) == {
        "model": "lstm",
        "bidirectional": True,
        "head": "crf",
        "char_filters": 6,
        "chars": "cnn",
    }
    assert upgrade_model_settings({"model": "rnn", "cell": "rnn", "char_filters": 0}) == {
        "model": "rnn",
        "chars": "none",
    }
    weights = {"model.hidden_output.bias": 1, "crf.transitions": 2}
    assert upgrade_weight_names(weights) == {"head.projection.bias": 1, "head.crf.transitions": 2}
    assert upgrade_model_settings({"model": "lstm", "members": 1, "word_case": "cased"}) == {"model": "lstm"}


@pytest.mark.parametrize(
    "removed", [{"members": 2}, {"word_case": "folded"}, {"word_case": "mixed"}, {"rare_word_frac": 0.5}]
)
def test_a_run_that_used_a_removed_device_is_refused_by_name(removed):
    with pytest.raises(ConfigError, match=f"model.{next(iter(removed))}.*removed"):
        upgrade_model_settings({"model": "lstm", **removed})


def test_torchs_own_load_state_dict_reads_old_names():
    tagger = NERPredictor(8, 4, 0, 6, 9, model="lstm", head="crf")
    old = {
        k.replace("head.projection", "model.hidden_output").replace("head.crf", "crf"): v.clone() + 1
        for k, v in tagger.state_dict().items()
    }
    fresh = NERPredictor(8, 4, 0, 6, 9, model="lstm", head="crf")
    fresh.load_state_dict(old)
    assert torch.equal(fresh.head.crf.transitions, tagger.head.crf.transitions + 1)
    assert isinstance(fresh.head.projection, nn.Linear)


def test_casing_classes_and_the_collator_that_gives_them():
    from ner.data_processing.casing_classes import (
        LOWER,
        MIXED,
        NUMERIC,
        OTHER,
        PAD,
        TITLE,
        UPPER,
        casing_class,
    )
    from ner.data_processing.data_collator import DataCollator
    from ner.data_processing.tokenizer import Tokenizer

    words = ["paris", "Paris", "NATO", "McDonald", "iPhone", "1996-08-22", ",", "A", "É", "Über"]
    assert [casing_class(w) for w in words] == [
        LOWER,
        TITLE,
        UPPER,
        MIXED,
        MIXED,
        NUMERIC,
        OTHER,
        TITLE,
        TITLE,
        TITLE,
    ]
    batch = DataCollator(Tokenizer(), casing=True)([{"text": ["NATO", "met"]}, {"text": ["x"]}])
    assert batch["casing_ids"].tolist() == [[UPPER, LOWER], [LOWER, PAD]]


def test_casing_features_join_the_token_vectors():
    tagger = NERPredictor(8, 4, 0, 6, 9, model="lstm", casing="embedding", casing_dim=3)
    assert tagger.uses_casing and tagger.model.encoder.input_size == 4 + 3
    ids, casing = torch.tensor([[2, 3]]), torch.tensor([[2, 1]])
    assert tagger(Batch(ids, torch.zeros_like(ids), casing_ids=casing)).shape == (1, 2, 9)
    with pytest.raises(ValueError, match="casing classes"):
        tagger(Batch(ids, torch.zeros_like(ids)))


def test_the_character_bilstm_reads_each_word_alone():
    from ner.nn.embeddings.char_bilstm import CharBiLSTM

    torch.manual_seed(0)
    part = CharBiLSTM(char_dim=4, char_hidden=3)
    words = torch.tensor([[0, 0, 0, 0], [5, 6, 7, 0], [8, 0, 0, 0]])
    features = part(words, torch.tensor([[1, 2, 0]]))
    assert features.shape == (1, 3, 6) and torch.equal(features[0, 2], torch.zeros(6))
    for position, length in ((0, 3), (1, 1)):
        _, (final, _) = part.lstm(part.embedding(words[position + 1, :length]).unsqueeze(0))
        assert torch.allclose(features[0, position], torch.cat([final[0, 0], final[1, 0]]), atol=1e-6)
