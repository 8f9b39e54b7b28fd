"""The parts a tagger is composed of, each declared once: its settings (a config section of its own under
`model`, picked by `name`), the batch inputs it reads, whether it exports to ONNX, the module that
implements it, and for heads whether class weights apply. Torch-free: configs are validated and exported
models opened without torch; a part's module is imported only when a tagger is built."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, SerializeAsAny, model_validator

from ner.utils.config import Fraction, NonNegative, Positive, Section, validate
from ner.utils.errors import ConfigError

# The slots of a tagger, in the order its token vectors are joined (after the word embedding); `chars`,
# `casing` and `transformer` are optional.
SLOTS = ("chars", "casing", "transformer", "encoder", "head")
OPTIONAL_SLOTS = ("chars", "casing", "transformer")
DEFAULT_PARTS = {"encoder": "ffnn", "head": "softmax"}

# Batch tensors a part reads beside the word ids and the padding mask.
CHARACTERS = ("char_words", "char_index")
CASING_CLASSES = ("casing_ids",)
WORD_PIECES = ("piece_ids", "piece_word")


class PartSettings(Section):
    """A part's settings; `name` picks the part within its slot."""

    name: str

    def collator_options(self) -> dict:
        """What the collator must give this part (beyond its inputs being present)."""
        return {}


@dataclass(frozen=True)
class Part:
    """A registered part: `settings` (its config section, whose `name` default is the part's name),
    `module` ("package.module:Class", whose `from_settings` builds it), the batch `inputs` it reads,
    whether it has an ONNX export form, and (heads) whether its loss takes class weights."""

    slot: str
    settings: type[PartSettings]
    module: str
    inputs: tuple[str, ...] = ()
    exportable: bool = True
    takes_class_weights: bool = False

    @property
    def name(self) -> str:
        """The part's name in its slot."""
        return self.settings.model_fields["name"].default

    def load(self) -> type:
        """The class implementing the part (imports torch)."""
        module, _, attribute = self.module.partition(":")
        return getattr(importlib.import_module(module), attribute)


PARTS: dict[str, dict[str, Part]] = {slot: {} for slot in SLOTS}


def register(part: Part) -> Part:
    """Add a part to its slot's registry; a name is registered once."""
    if part.name in PARTS[part.slot]:
        raise ValueError(f"a {part.slot} part named {part.name!r} is registered already")
    PARTS[part.slot][part.name] = part
    return part


def part_of(slot: str, settings: PartSettings) -> Part:
    """The registered part that `settings` configure."""
    return PARTS[slot][settings.name]


class CharSettings(PartSettings):
    """A character encoder reading each word's bytes as written, or lower-cased (`case: lower`: a word
    reads the same in any casing; only the casing features say how it was written)."""

    case: Literal["as-written", "lower"] = "as-written"
    dim: Positive = 32

    def collator_options(self) -> dict:
        """Bytes lower-cased by the collator when `case` is lower."""
        return {"char_lower": self.case == "lower"}


class CharCNNSettings(CharSettings):
    """A CNN over each word's bytes (`dim`-d byte embeddings, a centred window of `kernel_size`),
    max-pooled into `filters` features."""

    name: Literal["cnn"] = "cnn"
    filters: Positive = 50
    kernel_size: Positive = 3

    @model_validator(mode="after")
    def _odd_window(self) -> CharCNNSettings:
        if self.kernel_size % 2 == 0:
            raise ConfigError(
                "model.chars.kernel_size",
                f"the window is centred, so its size must be odd, got {self.kernel_size}",
            )
        return self


class CharBiLSTMSettings(CharSettings):
    """A bidirectional LSTM of `hidden` units each way over each word's bytes."""

    name: Literal["bilstm"] = "bilstm"
    hidden: Positive = 25


class CasingEmbeddingSettings(PartSettings):
    """A learned `dim`-d vector for each token's casing class."""

    name: Literal["embedding"] = "embedding"
    dim: Positive = 8

    def collator_options(self) -> dict:
        """Casing classes from the collator."""
        return {"casing": True}


class TransformerSettings(PartSettings):
    """The packaged MiniLM transformer, fine-tuned; each word read as its first WordPiece's vector or the
    mean of its pieces' (`pooling`). Needs the `transformer` extra."""

    name: Literal["minilm"] = "minilm"
    pooling: Literal["first", "mean"] = "first"

    def collator_options(self) -> dict:
        """WordPieces of this transformer from the collator."""
        return {"word_pieces": self.name}


class FFNNSettings(PartSettings):
    """The notebook's feed-forward network: `num_layers` ReLU layers of `hidden_dim`, each token read
    with `window` neighbours on each side."""

    name: Literal["ffnn"] = "ffnn"
    hidden_dim: Positive = 512
    num_layers: Positive = 1
    window: NonNegative = 0
    dropout: Fraction = 0.0


class RNNSettings(PartSettings):
    """The notebook's Elman RNN, one direction (`fused: false` runs its step-by-step loop)."""

    name: Literal["rnn"] = "rnn"
    hidden_dim: Positive = 512
    num_layers: Positive = 1
    bias: bool = True
    nonlinearity: Literal["tanh", "relu", "prelu"] = "tanh"
    fused: bool = True


class RecurrentSettings(PartSettings):
    """A recurrent encoder from PyTorch's kernels over packed sentences; `dropout` between layers and on
    its output."""

    hidden_dim: Positive = 512
    num_layers: Positive = 1
    bidirectional: bool = False
    dropout: Fraction = 0.0


class LSTMSettings(RecurrentSettings):
    """Long short-term memory cells."""

    name: Literal["lstm"] = "lstm"


class GRUSettings(RecurrentSettings):
    """Gated recurrent units."""

    name: Literal["gru"] = "gru"


class ElmanSettings(RecurrentSettings):
    """Elman cells with a tanh or ReLU nonlinearity."""

    name: Literal["elman"] = "elman"
    nonlinearity: Literal["tanh", "relu"] = "tanh"


class PassThroughSettings(PartSettings):
    """No encoder: the head reads the token vectors (for a transformer's contextual vectors)."""

    name: Literal["none"] = "none"


class HeadSettings(PartSettings):
    """A head trains and decodes in `tag_scheme` (data and predictions stay BIO)."""

    tag_scheme: Literal["bio", "bioes"] = "bio"


class SoftmaxSettings(HeadSettings):
    """A projection to tag scores, per-token cross-entropy (class weights allowed in BIO), arg-max."""

    name: Literal["softmax"] = "softmax"


class CRFSettings(HeadSettings):
    """A linear-chain CRF over the projection's scores, decoded by Viterbi."""

    name: Literal["crf"] = "crf"


for _part in (
    Part("chars", CharCNNSettings, "ner.nn.embeddings.char_cnn:CharCNN", CHARACTERS),
    Part(
        "chars", CharBiLSTMSettings, "ner.nn.embeddings.char_bilstm:CharBiLSTM", CHARACTERS, exportable=False
    ),
    Part(
        "casing",
        CasingEmbeddingSettings,
        "ner.nn.embeddings.casing_embedding:CasingEmbedding",
        CASING_CLASSES,
    ),
    Part(
        "transformer", TransformerSettings, "ner.nn.embeddings.transformer:TransformerEmbedding", WORD_PIECES
    ),
    Part("encoder", FFNNSettings, "ner.nn.models.ffnn:FFNN"),
    Part("encoder", RNNSettings, "ner.nn.models.rnn:RNN", exportable=False),
    Part("encoder", LSTMSettings, "ner.nn.models.recurrent:LSTM"),
    Part("encoder", GRUSettings, "ner.nn.models.recurrent:GRU"),
    Part("encoder", ElmanSettings, "ner.nn.models.recurrent:ElmanRNN"),
    Part("encoder", PassThroughSettings, "ner.nn.models.passthrough:PassThrough"),
    Part("head", SoftmaxSettings, "ner.nn.heads.softmax:SoftmaxHead", takes_class_weights=True),
    Part("head", CRFSettings, "ner.nn.heads.crf:CRFHead"),
):
    register(_part)

Slot = SerializeAsAny[PartSettings]


class ModelConfig(Section):
    """The tagger: a word embedding of `embedding_dim` (a `word_dropout` share of real words read as
    unknown in training; `dropout` on the joined token vectors), then one part per slot, each a section
    picked by its `name` from the registry `PARTS`: `chars` (a character encoder), `casing` (casing
    features), `transformer` (a packaged transformer), all three optional (null: none), `encoder`
    and `head`. Flat settings of earlier versions (`model: lstm`, `hidden_dim: 128`, ...) are read as
    these sections."""

    embedding_dim: Positive = 300
    word_dropout: Fraction = 0.0
    dropout: Fraction = 0.0
    chars: Slot | None = None
    casing: Slot | None = None
    transformer: Slot | None = None
    encoder: Slot = Field(default_factory=lambda: settings_of("encoder", {}))
    head: Slot = Field(default_factory=lambda: settings_of("head", {}))

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        data = nest_flat_settings(data)
        for slot in SLOTS:
            if isinstance(data.get(slot), dict):
                data[slot] = settings_of(slot, data[slot])
        return data

    def parts(self) -> dict[str, Part]:
        """The registered part in each filled slot, in slot order."""
        return {slot: part_of(slot, getattr(self, slot)) for slot in SLOTS if getattr(self, slot) is not None}

    def inputs(self) -> tuple[str, ...]:
        """The batch tensors the parts read beside word ids and padding mask, in slot order."""
        return tuple(name for part in self.parts().values() for name in part.inputs)

    def collator_options(self, char_max_length: int) -> dict:
        """What the collator gives these parts: characters (cut at `char_max_length`, as written or
        lower-cased), casing classes, WordPieces."""
        reads_chars = CHARACTERS[0] in self.inputs()
        options = {"char_max_length": char_max_length if reads_chars else None}
        options |= {"char_lower": False, "casing": False, "word_pieces": None}
        for slot in self.parts():
            options.update(getattr(self, slot).collator_options())
        return options

    def class_weights_problem(self) -> str | None:
        """Why this tagger's loss cannot weight tags, or None where it can."""
        if not part_of("head", self.head).takes_class_weights:
            return f"the {self.head.name} head's loss scores whole tag sequences and takes no class weights"
        if self.head.tag_scheme != "bio":
            return "class weights are counted per BIO tag, and this head trains in another scheme"
        return None

    def to_dict(self) -> dict:
        """The settings as JSON-ready data."""
        return self.model_dump(mode="json")


def settings_of(slot: str, data: dict) -> PartSettings:
    """The settings section of the part in `slot` that `data` names, validated; errors name the key."""
    name = data.get("name", DEFAULT_PARTS.get(slot))
    if name is None:
        raise ConfigError(f"model.{slot}.name", f"name the part; choose one of {list(PARTS[slot])}")
    if name not in PARTS[slot]:
        raise ConfigError(f"model.{slot}.name", f"{name!r} is not allowed; choose one of {list(PARTS[slot])}")
    try:
        return validate(PARTS[slot][name].settings, data)
    except ConfigError as err:
        key = err.key if err.key.startswith("model.") else f"model.{slot}.{err.key}"
        raise ConfigError(key, err.problem) from None


# The flat model settings of earlier versions: each key, where it lives now (slot, key) and its default
# then. `dropout` went to the token vectors and to encoders that have it; the rest stay at the top.
FLAT_KEYS: dict[str, tuple[str, str, object]] = {
    "model": ("encoder", "name", "ffnn"),
    "hidden_dim": ("encoder", "hidden_dim", 512),
    "num_layers": ("encoder", "num_layers", 1),
    "bias": ("encoder", "bias", True),
    "nonlinearity": ("encoder", "nonlinearity", "tanh"),
    "fused": ("encoder", "fused", True),
    "window": ("encoder", "window", 0),
    "bidirectional": ("encoder", "bidirectional", False),
    "chars": ("chars", "name", "none"),
    "char_case": ("chars", "case", "as-written"),
    "char_filters": ("chars", "filters", 50),
    "char_dim": ("chars", "dim", 32),
    "char_kernel_size": ("chars", "kernel_size", 3),
    "char_hidden": ("chars", "hidden", 25),
    "casing": ("casing", "name", "none"),
    "casing_dim": ("casing", "dim", 8),
    "transformer": ("transformer", "name", "none"),
    "transformer_pooling": ("transformer", "pooling", "first"),
    "head": ("head", "name", "softmax"),
    "tag_scheme": ("head", "tag_scheme", "bio"),
}


def flat_keys_of(data: dict) -> list[str]:
    """The keys of `data` written in the flat form (a slot's key holding a part's name, not a section)."""
    return [key for key, value in data.items() if key in FLAT_KEYS and not isinstance(value, dict | None)]


def nest_flat_settings(data: dict) -> dict:
    """Flat model settings of earlier versions (and of the notebook's configs) as today's sections: the
    same model. A setting the chosen part does not have is refused unless it holds the old default."""
    flat = {key: data[key] for key in flat_keys_of(data)}
    if not flat:
        return data
    nested = {key: value for key, value in data.items() if key not in flat}
    for key in flat:
        slot = FLAT_KEYS[key][0]
        if slot in nested:
            field = FLAT_KEYS[key][1]
            raise ConfigError(
                f"model.{key}", f"write model.{slot}.{field} (the flat key is of earlier versions)"
            )
    for slot in [slot for slot in SLOTS if slot not in nested]:
        name_key = next(key for key, (s, field, _) in FLAT_KEYS.items() if s == slot and field == "name")
        name = flat.get(name_key, FLAT_KEYS[name_key][2])
        keys = [key for key, (s, field, _) in FLAT_KEYS.items() if s == slot and field != "name"]
        if name == "none" and slot in OPTIONAL_SLOTS:
            _refuse_unused(
                flat, keys, f"applies to a {slot} part; this model has none (model.{name_key}: none)"
            )
            nested[slot] = None
            continue
        if name not in PARTS[slot]:
            raise ConfigError(
                f"model.{name_key}", f"{name!r} is not allowed; choose one of {list(PARTS[slot])}"
            )
        fields = PARTS[slot][name].settings.model_fields
        section = {"name": name}
        for key in keys:
            if key in flat and FLAT_KEYS[key][1] in fields:
                section[FLAT_KEYS[key][1]] = flat[key]
        if slot == "encoder" and "dropout" in fields and "dropout" in data:
            section["dropout"] = data["dropout"]
        _refuse_unused(
            flat, [k for k in keys if FLAT_KEYS[k][1] not in fields], f"does not apply to {name_key} {name}"
        )
        nested[slot] = section
    return nested


def _refuse_unused(flat: dict, keys: list[str], problem: str) -> None:
    """Refuse the first of `keys` whose flat value differs from its old default (which did nothing)."""
    for key in keys:
        if key in flat and flat[key] != FLAT_KEYS[key][2]:
            raise ConfigError(f"model.{key}", f"{flat[key]!r} {problem}")


# Devices removed after measuring that they did not earn their keep on top of pretrained vectors
# (docs/guide.md, "Models and presets"): each key, the value under which it did nothing, and what it was.
REMOVED_DEVICES = {
    "members": (1, "ensembles"),
    "word_case": ("cased", "case-folded word lookups"),
    "rare_word_frac": (0.0, "rare-word pruning"),
}


def upgrade_model_settings(settings: dict) -> dict:
    """Flat model settings written before parts were picked by name (`cell`, `decoder`, `char_filters: 0`),
    as the flat keys that followed: the same model. A run that used a removed device is refused by its key."""
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
    if isinstance(settings.get("char_filters"), int) and "chars" not in settings:
        settings["chars"] = "cnn" if settings["char_filters"] > 0 else "none"
        if settings["char_filters"] == 0:
            del settings["char_filters"]
    return settings
