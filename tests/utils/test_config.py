"""Config files: a run's config.json (JSON writes 5e-05) reads back through `--config` as it was."""

import json

from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config, parse_override


def test_a_saved_config_reads_back_with_its_exponent_floats(tmp_path):
    config = TrainConfig()
    config.optimizer.transformer_lr = 5e-05
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert load_config(TrainConfig, [path]).to_dict() == config.to_dict()
    assert parse_override("optimizer.lr=1E-3") == {"optimizer": {"lr": 0.001}}
    assert parse_override("model.chars.name=e5") == {"model": {"chars": {"name": "e5"}}}
