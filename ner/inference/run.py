"""A trained run's folder opened for use: config, tokenizer, label map, model, and tagging with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ner.data_processing.data_collator import DataCollator
from ner.data_processing.readers import read_json_file
from ner.data_processing.tokenizer import Tokenizer
from ner.data_processing.vectors import load_word_vectors
from ner.inference.tagging import predict_chains, predict_ids
from ner.models.document_consistency import harmonize_documents
from ner.models.ner_predictor import NERPredictor
from ner.nn.heads.chain import Chain
from ner.nn.module import Module
from ner.utils.config import TrainConfig, upgrade_config, validate
from ner.utils.errors import ConfigError, DataFormatError
from ner.utils.serialization import load_safetensors, load_torch
from ner.utils.tracker import ExperimentTracker


def build_model(config: TrainConfig, tokenizer: Tokenizer) -> Module:
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
    settings = config.to_dict()["data_collator"]
    if config.model.chars == "none":
        settings["char_max_length"] = None
    settings["casing"] = config.model.casing != "none"
    settings["word_pieces"] = config.model.transformer if config.model.transformer != "none" else None
    if for_prediction:
        settings.update(padding="longest", max_length=None)
    return DataCollator(
        tokenizer,
        text_colname=config.tokenizer.text_colname,
        label2id={label: i for i, label in enumerate(config.labels)},
        **settings,
    )


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


def load_model(config: TrainConfig, tokenizer: Tokenizer, weights_path: str | Path) -> Module:
    """A model built from a config with weights read safely from a file, shapes checked before use."""
    model = build_model(config, tokenizer)
    model.load_weights(read_weights(weights_path), str(weights_path))
    return model.eval()


@dataclass
class Experiment:
    """A trained model ready to predict with: a run folder written by training, or (for the notebook's
    scripts) a config, a tokenizer and a weights file given one by one."""

    config: TrainConfig
    tokenizer: Tokenizer
    config_path: Path
    tokenizer_path: Path
    tracker: ExperimentTracker | None = None
    weights_file: Path | None = None
    models: dict[int | None, Module] = field(default_factory=dict, repr=False)
    extension: torch.Tensor | None = field(default=None, repr=False)

    @classmethod
    def open(cls, run_dir: str | Path) -> Experiment:
        """Open a run folder, checking it holds a config and a tokenizer."""
        tracker = ExperimentTracker(run_dir)
        if not tracker.run_dir.is_dir():
            raise DataFormatError(str(run_dir), None, "no such experiment folder")
        config = read_config(tracker.config_path)
        tokenizer = Tokenizer.load(tracker.tokenizer_path)
        return cls(config, tokenizer, tracker.config_path, tracker.tokenizer_path, tracker)

    @classmethod
    def from_files(
        cls, config_path: str | Path, tokenizer_path: str | Path, weights_path: str | Path
    ) -> Experiment:
        """A model given as its run's config.json, its tokenizer file and a checkpoint or model file."""
        config_path, tokenizer_path = Path(config_path), Path(tokenizer_path)
        config, tokenizer = read_config(config_path), Tokenizer.load(tokenizer_path)
        return cls(config, tokenizer, config_path, tokenizer_path, weights_file=Path(weights_path))

    def weights_path(self, epoch: int | None = None) -> Path:
        """The best model's file (or the file given), or epoch `epoch`'s checkpoint."""
        if epoch is None and self.weights_file is not None:
            return self.weights_file
        if self.tracker is None:
            raise DataFormatError(str(self.config_path), None, "epochs are read from a run folder")
        if epoch is None:
            if not self.tracker.model_path.exists():
                raise DataFormatError(str(self.tracker.run_dir), None, "holds no trained model yet")
            return self.tracker.model_path
        checkpoints = self.tracker.checkpoints()
        if epoch not in checkpoints:
            raise DataFormatError(
                str(self.tracker.checkpoint_dir),
                None,
                f"no checkpoint of epoch {epoch}; found {sorted(checkpoints)}",
            )
        return checkpoints[epoch]

    def model(self, epoch: int | None = None) -> Module:
        """The run's best model, or the model of epoch `epoch`; read from disk once, and given the
        pretrained vectors of the words its training data lacks if the run says so."""
        if epoch not in self.models:
            model = load_model(self.config, self.tokenizer, self.weights_path(epoch))
            vectors = self.added_vectors()
            if vectors is not None:
                model.extend_vocabulary(vectors)
            self.models[epoch] = model
        return self.models[epoch]

    def added_vectors(self) -> torch.Tensor | None:
        """The vectors of the words the tokenizer was extended with (extending it the first time), or
        None if the run has no pretrained vectors to extend its vocabulary from."""
        settings = self.config.word_vectors
        if settings.source is None or not settings.extend_vocabulary:
            return None
        if self.extension is None:
            vectors = load_word_vectors(settings.source)
            if settings.checksum not in (None, vectors.checksum):
                raise DataFormatError(
                    str(self.config_path),
                    None,
                    f"word_vectors: {settings.source} has checksum {vectors.checksum}, "
                    f"not the {settings.checksum} this run was trained with",
                )
            positions = self.tokenizer.extend(vectors.words)
            self.extension = torch.from_numpy(vectors.matrix[positions])
        return self.extension

    def tag(
        self,
        sentences: list[list[str]],
        documents: list[int | None] | None = None,
        epoch: int | None = None,
        precision: str | None = None,
        document_consistency: bool | None = None,
        batch_size: int = 256,
    ) -> list[list[str]]:
        """Tags of each token list, by the run's best model (or epoch `epoch`'s), in `precision` and with
        document consistency over `documents` (each sentence's document number) as given or, by
        default, as the run's config says."""
        collator, examples, device, precision = self.prediction_inputs(sentences, precision)
        ids = predict_ids(examples, collator, self.model(epoch), batch_size, device, precision)
        return self.finish(sentences, ids, documents, document_consistency)

    def tag_with_chains(
        self,
        sentences: list[list[str]],
        documents: list[int | None] | None = None,
        precision: str | None = None,
        document_consistency: bool | None = None,
        batch_size: int = 256,
    ) -> tuple[list[list[str]], list[Chain]]:
        """Tags of each token list as `tag` gives them, and the tag chain of each sentence (for the
        probability of any span, and the k best tag sequences)."""
        collator, examples, device, precision = self.prediction_inputs(sentences, precision)
        predicted = predict_chains(examples, collator, self.model(), batch_size, device, precision)
        ids = [tag_ids for tag_ids, _ in predicted]
        return self.finish(sentences, ids, documents, document_consistency), [c for _, c in predicted]

    def prediction_inputs(
        self, sentences: list[list[str]], precision: str | None
    ) -> tuple[DataCollator, list[dict], str, str]:
        """The collator, the examples, the device and the precision (by default the run's) to tag with."""
        collator = self.collator()
        examples = [{collator.text_colname: tokens} for tokens in sentences]
        return collator, examples, self.config.trainer.device, precision or self.config.predict.precision

    def finish(
        self,
        sentences: list[list[str]],
        ids: list[list[int]],
        documents: list[int | None] | None,
        document_consistency: bool | None,
    ) -> list[list[str]]:
        """Tag ids as tags, made consistent within documents if asked (by default, as the run says)."""
        id2label = self.id2label
        tags = [[id2label[i] for i in seq] for seq in ids]
        if document_consistency is None:
            document_consistency = self.config.predict.document_consistency
        if document_consistency and documents is not None:
            tags = harmonize_documents(sentences, tags, documents)
        return tags

    def collator(self) -> DataCollator:
        """A collator for prediction with this run's tokenizer and labels."""
        return build_collator(self.config, self.tokenizer, for_prediction=True)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.config.labels))
