"""A trained run opened for use by one function, in any process: config, vocabulary with its extension,
model, and the Predictor with its precision decided."""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.readers import read_json_file
from ner.data_processing.tokenizer import Tokenizer
from ner.data_processing.vectors import WordVectors, load_word_vectors
from ner.data_processing.vocabulary import Vocabulary
from ner.inference.precision import probe
from ner.inference.predictor import Predictor
from ner.models.ner_predictor import NERPredictor
from ner.models.tagger import Tagger
from ner.nn.tags.calibration import Calibration
from ner.utils.config import TrainConfig, upgrade_config, validate
from ner.utils.console import log
from ner.utils.errors import ConfigError, DataFormatError
from ner.utils.io import atomic_write
from ner.utils.serialization import load_safetensors, load_torch
from ner.utils.thresholds import MinScore
from ner.utils.tracker import ExperimentTracker
from ner.utils.utils import resolve_device


def build_model(config: TrainConfig, tokenizer: Tokenizer) -> NERPredictor:
    """A fresh tagger for a config, a tokenizer and the config's label set."""
    model = NERPredictor(
        vocab_size=tokenizer.vocab_size,
        padding_idx=tokenizer.pad_id,
        output_dim=len(config.labels),
        unk_idx=tokenizer.unk_id,
        labels=config.labels,
        **config.to_dict()["model"],
    )
    return model


def build_collator(config: TrainConfig, tokenizer: Tokenizer, for_prediction: bool = False) -> DataCollator:
    """The collator of a config; prediction never truncates."""
    return DataCollator(tokenizer, **config.collator_options(for_prediction))


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Model weights from a .ckpt checkpoint, a .pt model or a .safetensors model, loaded safely."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_safetensors(path)[0]
    data = load_torch(path)
    if isinstance(data, dict):
        for key in ("model_state_dict", "state_dict"):
            if isinstance(data.get(key), dict):
                return data[key]
        if data and all(isinstance(v, torch.Tensor) for v in data.values()):
            return data
    raise DataFormatError(str(path), None, "holds no model weights (expected a checkpoint or a model file)")


def read_config(path: str | Path) -> TrainConfig:
    """A run's config.json (as written by this or an earlier version), validated."""
    try:
        return validate(TrainConfig, upgrade_config(read_json_file(path)))
    except ConfigError as err:
        raise DataFormatError(str(path), None, str(err)) from None


def load_model(config: TrainConfig, tokenizer: Tokenizer, weights_path: str | Path) -> NERPredictor:
    """A model built from a config with weights read safely from a file, shapes checked before use."""
    model = build_model(config, tokenizer)
    model.load_weights(read_weights(weights_path), str(weights_path))
    return model.eval()


EXTENSION_FILE = "vocab_extension.npz"


MODEL_ENTRY_POINTS = "ner.models"


def installed_model(name: str) -> Path:
    """The run folder inside the installed model package called `name` (as `ner package` made it), or
    `name` as a path if no such package is installed."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=MODEL_ENTRY_POINTS, name=name):
        return Path(entry.load())
    return Path(name)


@dataclass(frozen=True)
class RunFiles:
    """Where a trained model's files are: a run folder written by training (`folder`), or, for the
    notebook's scripts, a config, a tokenizer and a weights file given one by one."""

    config: Path
    tokenizer: Path
    weights: Path
    folder: Path | None = None

    @classmethod
    def of_folder(cls, run_dir: str | Path, epoch: int | None = None) -> RunFiles:
        """A run folder's files: its best model, or epoch `epoch`'s checkpoint."""
        tracker = ExperimentTracker(run_dir if Path(run_dir).is_dir() else installed_model(str(run_dir)))
        if not tracker.run_dir.is_dir():
            raise DataFormatError(str(run_dir), None, "no such experiment folder or installed model")
        if epoch is None:
            weights = tracker.model_path
        else:
            checkpoints = tracker.checkpoints()
            if epoch not in checkpoints:
                raise DataFormatError(
                    str(tracker.checkpoint_dir),
                    None,
                    f"no checkpoint of epoch {epoch}; found {sorted(checkpoints)}",
                )
            weights = checkpoints[epoch]
        return cls(tracker.config_path, tracker.tokenizer_path, weights, tracker.run_dir)

    @property
    def name(self) -> str:
        """The run's name: its folder's."""
        return (self.folder or self.config.parent).name


@dataclass(frozen=True)
class Run:
    """A trained model opened for use: its config, its vocabulary (extended with pretrained vectors if
    the run says so), the tagger with its weights, and the Predictor every caller tags with."""

    files: RunFiles
    config: TrainConfig
    tokenizer: Tokenizer
    model: Tagger
    predictor: Predictor

    @property
    def name(self) -> str:
        """The run's name: its folder's."""
        return self.files.name

    @property
    def folder(self) -> Path:
        """The run folder (for a run given file by file, its config's folder)."""
        return self.files.folder or self.files.config.parent

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @property
    def vocabulary(self) -> Tokenizer:
        """The vocabulary, extended with the run's pretrained vectors if it says so."""
        return self.tokenizer

    @property
    def parameters(self) -> int:
        """The model's trainable parameters."""
        return self.model.num_params()

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.config.labels))

    def best(self) -> dict | None:
        """The run folder's best epoch and its validation metrics, if training recorded one."""
        return ExperimentTracker(self.files.folder).best() if self.files.folder is not None else None

    def reopen(self) -> tuple[Callable[..., Run], tuple]:
        """How a worker process opens this same run: `open_run` with this run's choices."""
        predictor = self.predictor
        return open_run, (
            self.files,
            None,
            predictor.precision,
            predictor.document_consistency,
            predictor.batch_size,
            predictor.min_score,
        )


def open_run(
    source: str | Path | RunFiles,
    epoch: int | None = None,
    precision: str | None = None,
    document_consistency: bool | None = None,
    batch_size: int = 256,
    min_score: MinScore | None = None,
    threads: int | None = None,
) -> Run:
    """Open a run folder (or `RunFiles`) for prediction: the same tagger in any process that calls it.
    `precision` (default: the run's `predict.precision`) is decided here, once, by the CPU probe;
    `document_consistency` and `min_score` default to the run's `predict` settings; span scores are
    calibrated by the run's calibration, if it has one; `threads`, if given, sets torch's thread count
    (a worker process's share of the cores)."""
    if threads is not None:
        torch.set_num_threads(threads)
    files = source if isinstance(source, RunFiles) else RunFiles.of_folder(source, epoch)
    config = read_config(files.config)
    tokenizer = Tokenizer.load(files.tokenizer)
    if not files.weights.exists():
        raise DataFormatError(str(files.folder or files.weights), None, "holds no trained model yet")
    model = load_model(config, tokenizer, files.weights).to(resolve_device(config.trainer.device))
    predictor = make_predictor(
        config,
        tokenizer,
        model,
        files.config.parent,
        precision or config.predict.precision,
        config.predict.document_consistency if document_consistency is None else document_consistency,
        batch_size,
        Calibration.read(files.folder or files.config.parent).temperature,
        config.predict.min_score if min_score is None else min_score,
    )
    return Run(files, config, tokenizer, model, predictor)


def make_predictor(
    config: TrainConfig,
    tokenizer: Tokenizer,
    model: Tagger,
    cache_dir: Path,
    precision: str,
    document_consistency: bool,
    batch_size: int = 256,
    temperature: float = 1.0,
    min_score: MinScore | None = None,
    vectors: WordVectors | None = None,
) -> Predictor:
    """The Predictor of a run's model: the tokenizer and the model extended with the run's pretrained
    vectors (cached in `cache_dir`; `vectors` if already read), its prediction collator, `precision`
    as the CPU probe decides it, span scores divided by `temperature`, entities below `min_score`
    dropped."""
    added = vocabulary_extension(config, tokenizer, cache_dir, vectors)
    if added is not None:
        model.extend_vocabulary(added)
    collator = build_collator(config, tokenizer, for_prediction=True)
    with torch.inference_mode():
        chosen = probe(model, probe_forwards(model, collator), model_device(model), precision)
    return Predictor(
        model, collator, config.labels, chosen, document_consistency, batch_size, temperature, min_score
    )


def model_device(model: Tagger) -> torch.device:
    """Where a model's weights are."""
    return next(model.parameters()).device


def probe_forwards(model: Tagger, collator: DataCollator) -> list:
    """Forward passes for the precision probe (`precision._try`): 64 copies of one sentence (sequences of
    one length take other kernels), a warm-up batch, then six batches of sizes and lengths that differ
    from each other, of the vocabulary's words."""
    vocabulary = collator.tokenizer
    groups = [probe_sentences(vocabulary, [(1, 20, 1)]) * 64, probe_sentences(vocabulary, [(64, 8, 40)])]
    groups += [
        probe_sentences(vocabulary, [(count, shortest, 9)])
        for count, shortest in ((56, 10), (40, 23), (64, 31), (24, 5), (48, 17), (32, 38))
    ]
    device = model_device(model)
    batches = [collator([{collator.text_colname: s} for s in group]).to(device) for group in groups]
    return [functools.partial(model, batch) for batch in batches]


def probe_sentences(vocabulary: Vocabulary, groups: list[tuple[int, int, int]]) -> list[list[str]]:
    """Sentences of the vocabulary's words: for each (count, shortest, spread), `count` sentences of
    `shortest` to `shortest + spread - 1` words."""
    words = [t for t in list(vocabulary.token2id)[:202] if t not in PROBE_SKIP] or ["word"]
    return [
        [words[(i * 7 + j) % len(words)] for j in range(shortest + (i * 13) % spread)]
        for count, shortest, spread in groups
        for i in range(count)
    ]


PROBE_SKIP = {PAD_TOKEN, UNK_TOKEN}


def vocabulary_extension(
    config: TrainConfig, tokenizer: Tokenizer, cache_dir: Path, vectors: WordVectors | None = None
) -> torch.Tensor | None:
    """Extend `tokenizer` with the words of the run's pretrained vectors that it lacks and return their
    vectors (one row per added id), or None if the run has no vectors to extend from. The words and
    vectors are kept in `cache_dir`/vocab_extension.npz, checked by the vectors' and the vocabulary's
    checksums, so later opens skip reading the whole vectors source (`vectors`, if already read)."""
    settings = config.word_vectors
    if settings.source is None or not settings.extend_vocabulary:
        return None
    cache = cache_dir / EXTENSION_FILE
    vocabulary = vocabulary_checksum(tokenizer)
    cached = read_extension(cache, settings.checksum, vocabulary) if settings.checksum else None
    if cached is not None:
        words, matrix = cached
        tokenizer.add_extension(words)
        return torch.from_numpy(matrix)
    vectors = vectors or load_word_vectors(settings.source)
    if settings.checksum not in (None, vectors.checksum):
        raise DataFormatError(
            str(cache_dir / "config.json"),
            None,
            f"word_vectors: {settings.source} has checksum {vectors.checksum}, "
            f"not the {settings.checksum} this run was trained with",
        )
    positions = tokenizer.extend(vectors.words)
    matrix = np.ascontiguousarray(vectors.matrix[positions])
    write_extension(cache, vectors.checksum, vocabulary, list(tokenizer.extension), matrix)
    return torch.from_numpy(matrix)


def vocabulary_checksum(tokenizer: Tokenizer) -> str:
    """SHA-256 of a vocabulary's words in id order and its lookup settings."""
    digest = hashlib.sha256(json.dumps([tokenizer.lowercase, list(tokenizer.token2id)]).encode("utf-8"))
    return digest.hexdigest()


def read_extension(path: Path, vectors: str, vocabulary: str) -> tuple[list[str], np.ndarray] | None:
    """The cached added words and their vectors, if the cache is there and made from these checksums."""
    try:
        with np.load(path) as data:
            if str(data["vectors"]) != vectors or str(data["vocabulary"]) != vocabulary:
                return None
            words = data["words"].tobytes().decode("utf-8").split("\n")
            return words, data["matrix"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def write_extension(path: Path, vectors: str, vocabulary: str, words: list[str], matrix: np.ndarray) -> None:
    """Cache the added words and their vectors beside the run, or say in one line why it cannot."""
    packed = np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(
                out, vectors=np.array(vectors), vocabulary=np.array(vocabulary), words=packed, matrix=matrix
            )

    try:
        atomic_write(path, write)
    except OSError as err:
        log.print(f"[yellow]note[/]: cannot cache the vocabulary extension in {path.parent} ({err})")
