"""A run's whole config, saved as its config.json: every section, validated together, and the upgrade of
configs written by earlier versions."""

from __future__ import annotations

from pydantic import Field, model_validator

from ner.nn.parts import ModelConfig, flat_keys_of, upgrade_model_settings
from ner.utils.config import (
    AugmentConfig,
    CollatorConfig,
    DistillConfig,
    NonNegative,
    OptimizerConfig,
    PredictConfig,
    RehearseConfig,
    Section,
    TokenizerConfig,
    TrainAndEvalConfig,
    TrainerConfig,
    WordVectorsConfig,
)
from ner.utils.errors import ConfigError
from ner.utils.spans import listed_types
from ner.utils.thresholds import ThresholdError, check_min_score


class TrainConfig(Section):
    """Everything a training run needs; saved as the run's config.json."""

    seed: NonNegative = 4740
    data_collator: CollatorConfig = Field(default_factory=CollatorConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    train_and_eval: TrainAndEvalConfig = Field(default_factory=TrainAndEvalConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    rehearse: RehearseConfig = Field(default_factory=RehearseConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    predict: PredictConfig = Field(default_factory=PredictConfig)
    word_vectors: WordVectorsConfig = Field(default_factory=WordVectorsConfig)
    labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _combinations(self) -> TrainConfig:
        problem = self.model.class_weights_problem()
        self.check(
            [
                (
                    ("trainer.use_class_weights", "model.head"),
                    self.trainer.use_class_weights and problem is not None,
                    f"{problem}; set use_class_weights false",
                ),
            ]
        )
        if self.labels and self.predict.min_score is not None:
            try:
                check_min_score(self.predict.min_score, listed_types(dict(enumerate(self.labels))))
            except ThresholdError as err:
                raise ConfigError(f"predict.{err.where}", err.problem) from None
        return self

    def to_dict(self) -> dict:
        """The config as JSON-ready data."""
        return self.model_dump(mode="json")

    def collator_options(self, for_prediction: bool = False) -> dict:
        """The collator's settings: what the model's parts read; prediction never truncates."""
        settings = self.to_dict()["data_collator"]
        settings |= self.model.collator_options(self.data_collator.char_max_length)
        if for_prediction:
            settings.update(padding="longest", max_length=None)
        return settings | {
            "text_colname": self.tokenizer.text_colname,
            "label2id": {label: i for i, label in enumerate(self.labels)},
        }


def upgrade_config(data: dict) -> dict:
    """A run's config written by an earlier version, as today's: the same run. The class weights of a
    CRF run with flat model settings, which were silently ignored then, are turned off."""
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        return data
    model = upgrade_model_settings(data["model"])
    data = {**data, "model": model}
    if flat_keys_of(model) and model.get("head") == "crf" and isinstance(data.get("trainer"), dict):
        data["trainer"] = {**data["trainer"], "use_class_weights": False}
    return data
