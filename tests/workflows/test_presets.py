import pytest
import torch

from ner.cli import CONFIG_DIR, PRESET_DIR, presets
from ner.data_processing.constants import DEFAULT_LABELS, PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import build_collator, build_model
from ner.runtime.run_config import TrainConfig
from ner.utils.config import TokenizerConfig, load_config, read_yaml


def test_the_six_presets_ship():
    assert presets() == [
        "bilstm-crf",
        "glove-bilstm-crf",
        "minilm-crf",
        "seed-ffnn",
        "seed-rnn",
        "window-ffnn",
    ]


@pytest.mark.parametrize("preset", presets())
def test_each_preset_builds_a_model_that_tags(preset):
    if preset == "minilm-crf":
        pytest.importorskip("transformers", reason="needs the transformer extra")
    config = load_config(TrainConfig, [PRESET_DIR / f"{preset}.yml"])
    config.labels = list(DEFAULT_LABELS)
    tokenizer = Tokenizer(case_backoff=config.tokenizer.case_backoff).from_dict(
        {PAD_TOKEN: 0, UNK_TOKEN: 1, "Japan": 2, "japan": 3, "wins": 4}
    )
    model = build_model(config, tokenizer).eval()
    batch = build_collator(config, tokenizer, for_prediction=True)([{"text": ["JAPAN", "wins"]}])
    assert batch["input_ids"].tolist() == [[2 if config.tokenizer.case_backoff else 1, 4]]
    with torch.no_grad():
        logits = model(batch)
    assert model.decode(logits, batch.mask).shape == (1, 2)


@pytest.mark.parametrize("preset", presets())
def test_a_presets_tokenizer_is_the_same_from_train_tokenizer_and_from_train(preset):
    path = PRESET_DIR / f"{preset}.yml"
    via_train = load_config(TrainConfig, [path]).tokenizer
    via_tokenizer_command = load_config(
        TokenizerConfig, [CONFIG_DIR / "train_tokenizer.yml"], [read_yaml(path)["tokenizer"]]
    )
    assert via_tokenizer_command == via_train


@pytest.mark.parametrize("preset", presets())
def test_each_preset_validates_as_a_whole(preset):
    assert isinstance(load_config(TrainConfig, [PRESET_DIR / f"{preset}.yml"]), TrainConfig)


def test_the_defaults_in_code_are_the_notebooks_config():
    assert load_config(TrainConfig, [CONFIG_DIR / "train_model.yml"]) == TrainConfig()


@pytest.mark.parametrize("preset", presets())
def test_the_demos_presets_train_in_other_casings_and_the_notebooks_do_not(preset):
    config = load_config(TrainConfig, [PRESET_DIR / f"{preset}.yml"])
    augmented = preset in ("glove-bilstm-crf", "window-ffnn")
    assert (config.augment.lower > 0 and config.augment.upper > 0) == augmented
    assert (config.train_and_eval.best_metric == "entity_f1_casings") == augmented
    if augmented:
        assert config.tokenizer.case_backoff and config.model.chars.case == "lower"
        assert config.model.casing.name == "embedding"
    if preset.startswith("seed-"):
        assert config.augment.lower == config.augment.upper == 0.0 and not config.tokenizer.case_backoff
