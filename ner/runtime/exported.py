"""A model exported by `ner export`, opened for tagging with ONNX Runtime and numpy, without torch: the
network gives emissions, numpy decodes them (Viterbi, span probabilities, n-best) as torch's heads do."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ner.data_processing.arrays import ArrayCollator
from ner.data_processing.vocabulary import Vocabulary
from ner.nn.tags.chain import Chain, chains, left_aligned, viterbi
from ner.nn.tags.temperature import Calibration
from ner.runtime.folder import (
    CALIBRATION_FILE,
    CARD_FILE,
    CONFIG_FILE,
    ONNX_FILE,
    TAGS_FILE,
    VOCABULARY_FILE,
    WORD_PIECES_FILE,
    read_config,
    refuse_epoch,
)
from ner.runtime.model import BatchHook, TokenPredictor
from ner.runtime.run_config import TrainConfig
from ner.utils.errors import DataFormatError, NerError
from ner.utils.files import read_json_file
from ner.utils.thresholds import MinScore

RUNTIME_HINT = 'install the runtime extra: pip install -e ".[runtime]"'


@dataclass(frozen=True)
class TagChain:
    """How emissions are read as a tag chain: `crf` scores with learned transitions, or `softmax`
    scores read as independent log-probabilities; `to_bio` maps the scheme's tag ids to BIO label ids."""

    kind: str
    transitions: np.ndarray
    start: np.ndarray
    end: np.ndarray
    to_bio: list[int]

    @classmethod
    def read(cls, path: Path) -> TagChain:
        """The tag chain an export wrote."""
        data = read_json_file(path)
        if not isinstance(data, dict) or data.get("kind") not in ("crf", "softmax"):
            raise DataFormatError(
                str(path), None, "not a tag chain written by ner export (kind crf or softmax)"
            )
        try:
            return cls(
                data["kind"],
                np.asarray(data["transitions"], dtype=np.float32),
                np.asarray(data["start"], dtype=np.float32),
                np.asarray(data["end"], dtype=np.float32),
                list(data["to_bio"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DataFormatError(str(path), None, f"not a tag chain written by ner export ({err})") from None

    def potentials(self, emissions: np.ndarray) -> np.ndarray:
        """Per-token tag scores of the chain: CRF emissions as they are, softmax scores as log-probabilities."""
        if self.kind == "crf":
            return emissions
        shifted = emissions - emissions.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class ExportedPredictor(TokenPredictor):
    """Tags token lists with an exported network: length-sorted batches collated into arrays, the ONNX
    Runtime session, the tag chain decoded in numpy, then labels and document consistency."""

    def __init__(
        self,
        session: object,
        collator: ArrayCollator,
        chain: TagChain,
        labels: list[str],
        precision: str,
        document_consistency: bool,
        batch_size: int = 256,
        tag_scheme: str = "bio",
        temperature: float = 1.0,
        min_score: MinScore | None = None,
    ):
        super().__init__(
            labels, precision, document_consistency, batch_size, tag_scheme, temperature, min_score
        )
        self.session = session
        self.collator = collator
        self.chain = chain
        self.inputs = [i.name for i in session.get_inputs()]

    def potentials(self, examples: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Left-aligned chain potentials (batch, length, tags) of a batch and each row's length."""
        arrays = self.collator.arrays(examples)
        (emissions,) = self.session.run(["emissions"], {name: arrays[name] for name in self.inputs})
        mask = arrays["padding_mask"] == 0
        return left_aligned(self.chain.potentials(emissions), mask), mask.sum(axis=1)

    def tag_batch(
        self,
        sentences: list[Sequence[str]],
        scores: bool,
        labels: list[Sequence[str]] | None = None,
        on_batch: BatchHook | None = None,
    ) -> tuple[list[list[int]], list[Chain] | None]:
        """Each sentence's BIO label ids (Viterbi in numpy), and its tag chain if `scores`; an export
        computes no loss, so it takes no `on_batch`."""
        if on_batch is not None:
            raise NerError("an exported model computes no loss: validate with the training run")
        chain = self.chain
        potentials, lengths = self.potentials([{self.collator.text_colname: s} for s in sentences])
        paths = viterbi(potentials, chain.transitions, chain.start, chain.end, lengths)
        ids = [[chain.to_bio[t] for t in path] for path in paths]
        if not scores:
            return ids, None
        return ids, chains(
            potentials, chain.transitions, chain.start, chain.end, lengths.tolist(), self.temperature
        )


@dataclass(frozen=True)
class Exported:
    """An exported folder opened for tagging: its config, vocabulary, model card and predictor."""

    folder: Path
    config: TrainConfig
    tokenizer: Vocabulary
    card: dict
    predictor: ExportedPredictor

    @property
    def name(self) -> str:
        """The exported model's name: its source run's."""
        return self.card.get("run", self.folder.name)

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.config.labels))

    @property
    def vocabulary(self) -> Vocabulary:
        return self.tokenizer

    @property
    def parameters(self) -> int:
        """The source run's trainable parameters, as the export recorded them."""
        return int(self.card.get("parameters", 0))

    def best(self) -> dict | None:
        """The source run's best epoch and its validation metrics, as the export recorded them."""
        return self.card.get("validation")

    def reopen(self) -> tuple[Callable[..., Exported], tuple]:
        """How a worker process opens this same folder."""
        predictor = self.predictor
        return open_exported, (
            self.folder,
            None,
            None,
            predictor.document_consistency,
            predictor.batch_size,
            predictor.min_score,
        )


def runtime_collator(
    config: TrainConfig, vocabulary: Vocabulary, folder: Path | None = None
) -> ArrayCollator:
    """The arrays an exported network reads: the run's prediction collator, with WordPieces from the
    export's copy of the transformer's tokenizer (in `folder`; the packaged transformer's own while
    exporting)."""
    pieces = (
        folder / WORD_PIECES_FILE if folder is not None and config.model.transformer is not None else None
    )
    return ArrayCollator(vocabulary, **config.collator_options(for_prediction=True), word_pieces_file=pieces)


def read_vocabulary(path: Path) -> Vocabulary:
    """An export's vocabulary with the words it added from pretrained vectors, in id order."""
    vocabulary = Vocabulary.load(path)
    extension = read_json_file(path).get("extension", [])
    if not isinstance(extension, list) or not all(isinstance(w, str) for w in extension):
        raise DataFormatError(str(path), None, "'extension' must be a list of words")
    vocabulary.add_extension(extension)
    return vocabulary


def session_of(path: Path, threads: int | None) -> object:
    """An ONNX Runtime CPU session of a model file, on `threads` threads (default: every core)."""
    try:
        import onnxruntime
    except ImportError:
        raise NerError(f"tagging with an exported model needs ONNX Runtime; {RUNTIME_HINT}") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # ONNX Runtime raises its own exception types for unreadable models
        raise DataFormatError(str(path), None, f"ONNX Runtime cannot load it: {err}") from None


def open_exported(
    folder: str | Path,
    epoch: int | None = None,
    precision: str | None = None,
    document_consistency: bool | None = None,
    batch_size: int = 256,
    min_score: MinScore | None = None,
    threads: int | None = None,
) -> Exported:
    """Open a folder written by `ner export` for tagging; `document_consistency` and `min_score` default
    to the run's, span scores are calibrated as the run was. An export has one set of weights in one
    precision: an `epoch`, or a `precision` other than its own, is refused."""
    folder = Path(folder)
    refuse_epoch(folder, epoch)
    config = read_config(folder / CONFIG_FILE)
    vocabulary = read_vocabulary(folder / VOCABULARY_FILE)
    card = read_json_file(folder / CARD_FILE)
    exported_in = card.get("precision", "float32")
    if precision not in (None, exported_in):
        raise NerError(
            f"{folder}: exported in {exported_in}, so it cannot run in {precision}; drop --precision"
        )
    predictor = ExportedPredictor(
        session_of(folder / ONNX_FILE, threads),
        runtime_collator(config, vocabulary, folder),
        TagChain.read(folder / TAGS_FILE),
        config.labels,
        exported_in,
        config.predict.document_consistency if document_consistency is None else document_consistency,
        batch_size,
        config.model.head.tag_scheme,
        Calibration.read(folder / CALIBRATION_FILE).temperature,
        config.predict.min_score if min_score is None else min_score,
    )
    return Exported(folder, config, vocabulary, card, predictor)
