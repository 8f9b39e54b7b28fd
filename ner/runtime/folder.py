"""Model folders: the files of a training run, of an export and of an installed model package, the one
decision which kind a folder is, reading its config (old configs upgraded), packing it for another node
and what a worker process preloads to open it. Every other module asks this one."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ner.data_processing.extension import cached_extension
from ner.data_processing.vocabulary import Vocabulary
from ner.runtime.run_config import TrainConfig, upgrade_config
from ner.utils.config import validate
from ner.utils.errors import ConfigError, DataFormatError, NerError
from ner.utils.files import read_json_file

CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "model.safetensors"
BEST_FILE = "best.json"
CHECKPOINT_DIR = "checkpoints"
INIT_FILE = "init.json"
DATA_SUMMARY_FILE = "data_summary.json"
CALIBRATION_FILE = "calibration.json"
# Runs before the user's cache kept the vocabulary extension of their vectors here; it is still read.
EXTENSION_FILE = "vocab_extension.npz"
CARD_FILE = "model_card.json"
ONNX_FILE = "model.onnx"
VOCABULARY_FILE = "vocabulary.json"
TAGS_FILE = "tags.json"
WORD_PIECES_FILE = "word_pieces.json"
METRICS_SPLITS = ("train", "val")
MODEL_ENTRY_POINTS = "ner.models"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint_(\d+)\.ckpt$")
PACKED_WEIGHTS = "weights"


def metrics_file(split: str) -> str:
    """The file of a split's per-epoch metrics in a run folder."""
    return f"{split}_metrics.jsonl"


def checkpoint_file(epoch: int) -> str:
    """The file of an epoch's checkpoint in a run's checkpoint folder."""
    return f"checkpoint_{epoch}.ckpt"


# What a new run in a folder replaces; an installed package holds the run's own files among these.
RUN_FILES = (
    CONFIG_FILE,
    TOKENIZER_FILE,
    BEST_FILE,
    WEIGHTS_FILE,
    *(metrics_file(split) for split in METRICS_SPLITS),
    EXTENSION_FILE,
    INIT_FILE,
    DATA_SUMMARY_FILE,
    CALIBRATION_FILE,
)
PACKAGED_FILES = (CONFIG_FILE, TOKENIZER_FILE, BEST_FILE, DATA_SUMMARY_FILE, CALIBRATION_FILE)


def is_exported(source: object) -> bool:
    """Whether `source` is a folder written by `ner export` (else: a run, or an installed model's name)."""
    return isinstance(source, str | Path) and (Path(source) / ONNX_FILE).is_file()


def refuse_epoch(source: object, epoch: int | None) -> None:
    """Refuse an `epoch` for an export, which holds one set of weights."""
    if epoch is not None and is_exported(source):
        raise NerError(f"{source}: an exported model holds one set of weights; --epoch reads a run folder")


def installed_model(name: str) -> Path:
    """The run folder inside the installed model package called `name` (as `ner package` made it), or
    `name` as a path if no such package is installed."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=MODEL_ENTRY_POINTS, name=name):
        return Path(entry.load())
    return Path(name)


def checkpoints(run_dir: Path) -> dict[int, Path]:
    """A run folder's saved checkpoints by epoch."""
    folder = run_dir / CHECKPOINT_DIR
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def read_config(path: str | Path) -> TrainConfig:
    """A run's or an export's config.json (as written by this or an earlier version), validated."""
    try:
        return validate(TrainConfig, upgrade_config(read_json_file(path)))
    except ConfigError as err:
        raise DataFormatError(str(path), None, str(err)) from None


def read_best(run_dir: Path) -> dict | None:
    """A run's best epoch so far and its validation metrics, if training recorded one."""
    path = run_dir / BEST_FILE
    return read_json_file(path) if path.exists() else None


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
        """A run folder's (or an installed model's) files: its best model, or epoch `epoch`'s checkpoint."""
        folder = Path(run_dir) if Path(run_dir).is_dir() else installed_model(str(run_dir))
        if not folder.is_dir():
            raise DataFormatError(str(run_dir), None, "no such experiment folder or installed model")
        if epoch is None:
            weights = folder / WEIGHTS_FILE
        else:
            saved = checkpoints(folder)
            if epoch not in saved:
                raise DataFormatError(
                    str(folder / CHECKPOINT_DIR),
                    None,
                    f"no checkpoint of epoch {epoch}; found {sorted(saved)}",
                )
            weights = saved[epoch]
        return cls(folder / CONFIG_FILE, folder / TOKENIZER_FILE, weights, folder)

    @property
    def name(self) -> str:
        """The run's name: its folder's."""
        return (self.folder or self.config.parent).name

    @property
    def home(self) -> Path:
        """The folder of the run's other files (for a run given file by file, its config's folder)."""
        return self.folder or self.config.parent


def pack(source: str | Path, epoch: int | None) -> dict[str, bytes]:
    """A model's files as bytes, so that processes on any node open the same model without a shared
    disk: every file of an export, or a run's config, vocabulary, weights (of `epoch`), calibration and
    its vocabulary extension (the run folder's own or the user's cache's), if there is one."""
    refuse_epoch(source, epoch)
    if is_exported(source):
        return {p.name: p.read_bytes() for p in sorted(Path(source).iterdir()) if p.is_file()}
    files = RunFiles.of_folder(source, epoch)
    config = read_config(files.config)
    package = {
        CONFIG_FILE: files.config.read_bytes(),
        TOKENIZER_FILE: files.tokenizer.read_bytes(),
        PACKED_WEIGHTS + files.weights.suffix: files.weights.read_bytes(),
    }
    if (files.home / CALIBRATION_FILE).is_file():
        package[CALIBRATION_FILE] = (files.home / CALIBRATION_FILE).read_bytes()
    extension = files.home / EXTENSION_FILE
    if not extension.is_file() and config.word_vectors.checksum is not None:
        extension = cached_extension(config.word_vectors.checksum, Vocabulary.load(files.tokenizer))
    if extension.is_file():
        package[EXTENSION_FILE] = extension.read_bytes()
    return package


@contextmanager
def unpacked(package: dict[str, bytes]) -> Iterator[Path | RunFiles]:
    """A packed model written to a temporary folder while the block runs (opening a model reads all it
    needs): the exported folder, or the run's files."""
    with tempfile.TemporaryDirectory(prefix="ner-model-") as tmp:
        folder = Path(tmp)
        for name, data in package.items():
            (folder / name).write_bytes(data)
        if is_exported(folder):
            yield folder
            return
        weights = next(folder / name for name in package if name.startswith(PACKED_WEIGHTS))
        yield RunFiles(folder / CONFIG_FILE, folder / TOKENIZER_FILE, weights, folder)


def worker_preload(source: str | Path) -> list[str]:
    """The module a worker process imports to open `source` (its forkserver preloads it)."""
    return ["ner.runtime.exported" if is_exported(source) else "ner.inference.run"]
