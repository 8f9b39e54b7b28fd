"""A trained run opened for use by one function, in any process: config, vocabulary with its extension,
model, and the Predictor with its precision decided."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.extension import (
    cached_extension,
    read_extension,
    vocabulary_checksum,
    write_extension,
)
from ner.data_processing.tokenizer import Tokenizer
from ner.data_processing.vectors import WordVectors, load_word_vectors
from ner.data_processing.vocabulary import Vocabulary
from ner.inference.precision import probe
from ner.inference.predictor import Predictor
from ner.models.ner_predictor import NERPredictor
from ner.models.tagger import Tagger
from ner.nn.tags.temperature import Calibration
from ner.runtime.folder import CALIBRATION_FILE, CONFIG_FILE, EXTENSION_FILE, RunFiles, read_best, read_config
from ner.runtime.run_config import TrainConfig
from ner.utils.errors import DataFormatError
from ner.utils.serialization import load_safetensors, load_torch
from ner.utils.thresholds import MinScore
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


def load_model(config: TrainConfig, tokenizer: Tokenizer, weights_path: str | Path) -> NERPredictor:
    """A model built from a config with weights read safely from a file, shapes checked before use."""
    model = build_model(config, tokenizer)
    model.load_weights(read_weights(weights_path), str(weights_path))
    return model.eval()


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
        return self.files.home

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
        return read_best(self.files.folder) if self.files.folder is not None else None

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
        files.home,
        precision or config.predict.precision,
        config.predict.document_consistency if document_consistency is None else document_consistency,
        batch_size,
        Calibration.read(files.home / CALIBRATION_FILE).temperature,
        config.predict.min_score if min_score is None else min_score,
    )
    return Run(files, config, tokenizer, model, predictor)


def make_predictor(
    config: TrainConfig,
    tokenizer: Tokenizer,
    model: Tagger,
    folder: Path,
    precision: str,
    document_consistency: bool,
    batch_size: int = 256,
    temperature: float = 1.0,
    min_score: MinScore | None = None,
    vectors: WordVectors | None = None,
) -> Predictor:
    """The Predictor of a run's model: the tokenizer and the model extended with the run's pretrained
    vectors (the run's `folder` or the user's cache; `vectors` if already read), its prediction collator, `precision`
    as the CPU probe decides it, span scores divided by `temperature`, entities below `min_score`
    dropped."""
    added = vocabulary_extension(config, tokenizer, folder, vectors)
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
    config: TrainConfig, tokenizer: Tokenizer, folder: Path, vectors: WordVectors | None = None
) -> torch.Tensor | None:
    """Extend `tokenizer` with the words of the run's pretrained vectors that it lacks and return their
    vectors (one row per added id), or None if the run has no vectors to extend from. The words and
    vectors come from the run `folder`'s own copy (older runs, packed runs) or the user's cache, checked
    by the vectors' and the vocabulary's checksums, else from the vectors (`vectors`, if already read)
    and are then cached."""
    settings = config.word_vectors
    if settings.source is None or not settings.extend_vocabulary:
        return None
    vocabulary = vocabulary_checksum(tokenizer)
    for cache in (folder / EXTENSION_FILE, cached_extension(settings.checksum or "", tokenizer)):
        cached = read_extension(cache, settings.checksum, vocabulary) if settings.checksum else None
        if cached is not None:
            words, matrix = cached
            tokenizer.add_extension(words)
            return torch.from_numpy(matrix)
    vectors = vectors or load_word_vectors(settings.source)
    if settings.checksum not in (None, vectors.checksum):
        raise DataFormatError(
            str(folder / CONFIG_FILE),
            None,
            f"word_vectors: {settings.source} has checksum {vectors.checksum}, "
            f"not the {settings.checksum} this run was trained with",
        )
    positions = tokenizer.extend(vectors.words)
    matrix = np.ascontiguousarray(vectors.matrix[positions])
    write_extension(
        cached_extension(vectors.checksum, tokenizer),
        vectors.checksum,
        vocabulary,
        list(tokenizer.extension),
        matrix,
    )
    return torch.from_numpy(matrix)
