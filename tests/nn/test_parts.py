"""A tagger is composed of parts picked by name from registries; each encoder returns hidden states."""

import pytest
import torch
from torch import nn

from ner.data_processing.batch import Batch
from ner.models.ner_predictor import NERPredictor, upgrade_weight_names
from ner.nn.parts import PARTS, SLOTS, ModelConfig, nest_flat_settings, settings_of, upgrade_model_settings
from ner.utils.config import validate
from ner.utils.errors import ConfigError


def test_every_slot_offers_exactly_its_registered_parts():
    for slot in SLOTS:
        with pytest.raises(ConfigError, match=f"model.{slot}.name.*{list(PARTS[slot])}"):
            validate(ModelConfig, {slot: {"name": "nothing"}})
        for name, part in PARTS[slot].items():
            assert part.name == name and part.slot == slot
            assert part.load().from_settings.__doc__, f"{name} builds from its settings"


@pytest.mark.parametrize("name", list(PARTS["encoder"]))
def test_each_encoder_returns_hidden_states_of_its_output_size(name):
    fields = PARTS["encoder"][name].settings.model_fields
    settings = settings_of(
        "encoder",
        {"name": name} | {k: v for k, v in {"hidden_dim": 6, "num_layers": 2}.items() if k in fields},
    )
    encoder = PARTS["encoder"][name].load().from_settings(settings, 5)
    hidden = encoder(torch.randn(3, 4, 5), torch.zeros(3, 4, dtype=torch.long))
    assert hidden.shape == (3, 4, encoder.output_size)
    assert not hasattr(encoder, "hidden_output")  # the head owns the output layer


@pytest.mark.parametrize("head", list(PARTS["head"]))
def test_every_encoder_and_head_compose_into_a_tagger_that_learns(head):
    ids, labels = torch.tensor([[2, 3, 4], [5, 2, 0]]), torch.tensor([[3, 4, 0], [5, 0, -100]])
    mask = (labels == -100).long()
    for name in PARTS["encoder"]:
        torch.manual_seed(0)
        chars = (
            {"name": "cnn", "filters": 3}
            if name in ("ffnn", "lstm", "elman")
            else {"name": "bilstm", "hidden": 2}
        )
        encoder = {"name": name} | ({"hidden_dim": 6} if name != "none" else {})
        tagger = NERPredictor(8, 4, 0, encoder=encoder, head={"name": head}, chars=chars)
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


def test_flat_settings_of_earlier_versions_are_the_same_model_in_sections():
    flat = {"model": "lstm", "hidden_dim": 128, "bidirectional": True, "dropout": 0.5, "window": 0}
    flat |= {"chars": "cnn", "char_case": "lower", "char_filters": 100, "char_hidden": 25, "casing": "none"}
    flat |= {"casing_dim": 8, "head": "crf", "tag_scheme": "bioes", "embedding_dim": 50}
    nested = nest_flat_settings(flat)
    assert nested["encoder"] == {"name": "lstm", "hidden_dim": 128, "bidirectional": True, "dropout": 0.5}
    assert nested["chars"] == {"name": "cnn", "case": "lower", "filters": 100}
    assert nested["casing"] is None and nested["head"] == {"name": "crf", "tag_scheme": "bioes"}
    assert nested["dropout"] == 0.5 and nested["embedding_dim"] == 50
    assert validate(ModelConfig, flat) == validate(ModelConfig, nested)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": "lstm", "window": 2}, "'model.window': 2 does not apply to model lstm"),
        ({"model": "gru", "bias": False}, "'model.bias': False does not apply to model gru"),
        ({"casing_dim": 4}, "'model.casing_dim': 4 applies to a casing part; this model has none"),
        (
            {"encoder": {"name": "lstm"}, "hidden_dim": 8},
            "'model.hidden_dim': write model.encoder.hidden_dim",
        ),
        ({"encoder": {"name": "lstm", "window": 2}}, "'model.encoder.window': unknown key; allowed keys are"),
        ({"chars": {"name": "cnn", "kernel_size": 4}}, "'model.chars.kernel_size': the window is centred"),
        ({"chars": {"filters": 4}}, "'model.chars.name': name the part"),
        ({"encoder": {"name": "elman", "nonlinearity": "prelu"}}, "'model.encoder.nonlinearity'"),
    ],
)
def test_a_setting_a_part_does_not_have_is_refused_by_its_key(settings, message):
    with pytest.raises(ConfigError, match=message):
        validate(ModelConfig, settings)


def test_a_new_part_is_one_class_and_one_registration(monkeypatch):
    from ner.nn.parts import Part, PartSettings

    class MeanSettings(PartSettings):
        name: str = "mean"

    class Mean(nn.Module):
        """Each token's vector averaged with the sentence's mean."""

        def __init__(self, input_dim: int):
            super().__init__()
            self.output_size = input_dim

        @classmethod
        def from_settings(cls, settings, input_dim):
            return cls(input_dim)

        def forward(self, embeddings, padding_mask=None):
            return (embeddings + embeddings.mean(dim=1, keepdim=True)) / 2

    monkeypatch.setitem(globals(), "Mean", Mean)
    monkeypatch.setitem(PARTS["encoder"], "mean", Part("encoder", MeanSettings, f"{__name__}:Mean"))
    tagger = NERPredictor(8, 4, 0, encoder={"name": "mean"})
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
    assert tagger.settings.inputs() == ("casing_ids",) and tagger.model.encoder.input_size == 4 + 3
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
