"""The training workflow: dataset, tokenizer and config in, a complete run folder out."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import torch
from datasets import DatasetDict
from torch import nn
from torch.optim import AdamW

from ner.data_processing.augmentation import CaseAugmentation
from ner.data_processing.dataset import as_examples, label_set, load_dataset
from ner.data_processing.sources import SOURCE_COLUMN
from ner.data_processing.tokenizer import Tokenizer
from ner.data_processing.vectors import WordVectors, load_word_vectors
from ner.inference.run import build_collator, build_model, make_predictor, open_run, read_weights
from ner.models.transfer import transfer_weights
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.embeddings.transformer import TransformerEmbedding
from ner.runtime.folder import DATA_SUMMARY_FILE, INIT_FILE, RUN_FILES, RunFiles, read_config
from ner.runtime.run_config import TrainConfig
from ner.trainers.distillation import Distillation
from ner.trainers.distributed import World, current_world
from ner.trainers.tracker import ExperimentTracker
from ner.trainers.trainer import Trainer
from ner.utils.config import TokenizerConfig, dotted
from ner.utils.console import log
from ner.utils.errors import ConfigError, NerError
from ner.utils.files import read_json_file
from ner.utils.io import atomic_write_json
from ner.utils.spans import tag_spans
from ner.utils.utils import resolve_device, set_seed
from ner.workflows.calibration import calibrate_split
from ner.workflows.rehearsal import check_rehearsal, old_types_before_and_after, rehearse
from ner.workflows.teacher import TRANSFER_SOURCE, taught_examples


def train_tokenizer(dataset_dir: str | Path, output_file: str | Path, config: TokenizerConfig) -> Tokenizer:
    """Train a tokenizer on the train split of a saved dataset and write it to `output_file`."""
    dataset = load_dataset(dataset_dir)
    tokenizer = Tokenizer(lowercase=config.lowercase, case_backoff=config.case_backoff)
    tokenizer.train(dataset["train"], config.text_colname, config.min_freq, config.remove_frac, config.reset)
    tokenizer.save(output_file)
    log.print(f"{tokenizer} written to {output_file}")
    return tokenizer


def read_word_vectors(config: TrainConfig) -> WordVectors:
    """The config's pretrained vectors, checked against its embedding size and recorded checksum; the
    checksum is then recorded in the config."""
    vectors = load_word_vectors(config.word_vectors.source)
    if vectors.dim != config.model.embedding_dim:
        raise ConfigError(
            "model.embedding_dim",
            f"{config.model.embedding_dim} does not match the {vectors.dim}-d vectors of {vectors.source}",
        )
    if config.word_vectors.checksum not in (None, vectors.checksum):
        raise ConfigError(
            "word_vectors.checksum",
            f"{vectors.source} has checksum {vectors.checksum}, not the {config.word_vectors.checksum} recorded",
        )
    config.word_vectors.checksum = vectors.checksum
    return vectors


def start_from_vectors(model: nn.Module, tokenizer: Tokenizer, vectors: WordVectors) -> None:
    """Start every word embedding of `model` from the vectors of the tokenizer's words that have one."""
    ids, rows = vectors.rows_for(tokenizer.token2id)
    initial = torch.from_numpy(vectors.matrix[rows])
    for module in model.modules():
        if isinstance(module, TokenEmbedding):
            module.initialise(ids, initial)
    log.print(f"word embedding: {len(ids):,} of {tokenizer.vocab_size:,} words start from {vectors.source}")


def training_examples(config: TrainConfig, train: object) -> object:
    """The training split, or with a teacher its examples with the teacher's label probabilities and the
    transfer text's sentences."""
    if config.distill.teacher is None:
        return train
    examples = as_examples(train, [config.tokenizer.text_colname, "NER", SOURCE_COLUMN])
    return taught_examples(
        examples,
        config.distill.teacher,
        config.distill.unlabeled,
        config.labels,
        config.tokenizer.text_colname,
        "NER",
    )


def check_source_weights(config: TrainConfig, train: object, dataset_dir: str | Path) -> None:
    """Refuse source weights that name a source the training split does not have."""
    weights = config.train_and_eval.source_weights
    if not weights:
        return
    sources = set(train[SOURCE_COLUMN]) if SOURCE_COLUMN in train.column_names else set()
    if config.distill.unlabeled:
        sources.add(TRANSFER_SOURCE)
    for name in sorted(set(weights) - sources):
        have = f"its sources are {', '.join(sorted(sources))}" if sources else "it has one source"
        raise ConfigError(
            "train_and_eval.source_weights", f"{name}: {dataset_dir} has no such source ({have})"
        )


def start_from_run(
    model: nn.Module,
    config: TrainConfig,
    tokenizer: Tokenizer,
    source: Path,
    tracker: ExperimentTracker,
    rehearsal: dict | None = None,
) -> None:
    """Start `model` from another run's best weights: entity types and words both know keep what that
    run learnt, new ones start fresh; the run folder records where it started from and what was
    rehearsed (`init.json`)."""
    files = RunFiles.of_folder(source)
    source_config = read_config(files.config)
    ours, theirs = dotted(config.model.to_dict()), dotted(source_config.model.to_dict())
    differing = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if differing:
        changes = ", ".join(f"{k} {theirs.get(k)!r} -> {ours.get(k)!r}" for k in differing)
        raise ConfigError(
            f"model.{differing[0]}", f"--init {source} was trained with other model parts: {changes}"
        )
    source_tokenizer = Tokenizer.load(files.tokenizer)
    source_model = build_model(source_config, source_tokenizer)
    transfer = transfer_weights(
        model, tokenizer, read_weights(files.weights), source_model, source_tokenizer, str(files.weights)
    )
    record = {"run": str(source.resolve()), "weights": str(files.weights.resolve()), **transfer.to_dict()}
    if rehearsal is not None:
        record["rehearsal"] = rehearsal
    atomic_write_json(tracker.run_dir / INIT_FILE, record)
    log.print(
        f"starting from {source}: types {', '.join(transfer.types_kept) or 'none'} kept"
        f"{'; new: ' + ', '.join(transfer.types_new) if transfer.types_new else ''};"
        f" {transfer.words_kept:,} of {tokenizer.vocab_size:,} words known"
    )


def parameter_groups(model: nn.Module, transformer_lr: float) -> list[dict]:
    """The model's weights as optimizer groups: a pretrained transformer's learn at `transformer_lr`."""
    pretrained = {
        id(p) for m in model.modules() if isinstance(m, TransformerEmbedding) for p in m.parameters()
    }
    groups = [{"params": [p for p in model.parameters() if id(p) not in pretrained]}]
    if pretrained:
        groups.append(
            {"params": [p for p in model.parameters() if id(p) in pretrained], "lr": transformer_lr}
        )
    return groups


def clear_run(tracker: ExperimentTracker) -> None:
    """Remove what an earlier run left in a folder, so a new run starts clean."""
    for name in RUN_FILES:
        (tracker.run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(tracker.checkpoint_dir, ignore_errors=True)


def check_run_folder(tracker: ExperimentTracker, resume: bool, overwrite: bool) -> None:
    """Refuse to start a run over another one, or to resume a run that is not there."""
    if resume and not tracker.config_path.exists():
        raise NerError(f"{tracker.run_dir}: nothing to resume (no config.json)")
    if not resume and tracker.config_path.exists() and not overwrite:
        raise NerError(f"{tracker.run_dir} already holds a run; pass --resume to continue it or --overwrite")


def summarize_data(dataset: object) -> dict:
    """Sentences, tokens and entities of each type in each labelled split of a dataset."""
    summary = {}
    for split, data in dataset.items():
        if "NER" not in data.column_names:
            continue
        entities: Counter = Counter(label for tags in data["NER"] for label, _, _ in tag_spans(tags))
        tokens = sum(len(tags) for tags in data["NER"])
        summary[split] = {
            "sentences": len(data),
            "tokens": tokens,
            "entities": dict(sorted(entities.items())),
        }
    return summary


def prepare_run(
    config: TrainConfig,
    tracker: ExperimentTracker,
    tokenizer: Tokenizer,
    resume: bool,
    overwrite: bool,
    data_summary: dict,
) -> int | None:
    """Write the run's config, tokenizer and data summary (or, resuming, roll back to the last
    checkpoint); returns the epoch to resume from."""
    if resume:
        checkpoints = tracker.checkpoints()
        last = max(checkpoints) if checkpoints else None
        tracker.rollback(-1 if last is None else last)
        return last
    clear_run(tracker)
    tracker.save_config(config.to_dict())
    atomic_write_json(tracker.run_dir / DATA_SUMMARY_FILE, data_summary)
    tokenizer.save(tracker.tokenizer_path)
    return None


def rehearsed(
    dataset: DatasetDict, config: TrainConfig, init_from: str | Path | None, resume: bool
) -> tuple[DatasetDict, dict | None]:
    """The dataset with rehearsal's additions when a new run starts from a run folder, and their record."""
    check_rehearsal(config.rehearse, init_from)
    if init_from is None or not Path(init_from).is_dir() or resume:
        return dataset, None
    text_column = config.tokenizer.text_colname
    return rehearse(dataset, Path(init_from), config.rehearse, config.seed, text_column)


def process_device(setting: str, world: World) -> torch.device:
    """The device a training process uses: the configured one, and in a process group on GPUs, the GPU
    of this process's local rank."""
    device = resolve_device(setting)
    return torch.device("cuda", world.local_rank) if device.type == "cuda" and world.size > 1 else device


def train_model(
    config: TrainConfig,
    dataset_dir: str | Path,
    tokenizer_file: str | Path,
    run_dir: str | Path,
    init_from: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> Trainer:
    """Train a tagger as `config` says, keeping everything needed to use it later in `run_dir`."""
    world = current_world()
    dataset = load_dataset(dataset_dir)
    dataset, rehearsal = rehearsed(dataset, config, init_from, resume)
    tokenizer = Tokenizer.load(tokenizer_file)
    file_settings = {"lowercase": tokenizer.lowercase, "case_backoff": tokenizer.case_backoff}
    config.tokenizer = config.tokenizer.model_copy(update=file_settings)
    config.labels = config.labels or label_set(dataset, types=(rehearsal or {}).get("types_rehearsed", ()))
    check_source_weights(config, dataset["train"], dataset_dir)
    tracker = ExperimentTracker(run_dir)
    if world.is_main:
        check_run_folder(tracker, resume, overwrite)
    if resume:
        # A resumed run keeps its own config and vocabulary.
        config, tokenizer = world.broadcast(
            (read_config(tracker.config_path), Tokenizer.load(tracker.tokenizer_path))
            if world.is_main
            else None
        )
    vectors = read_word_vectors(config) if config.word_vectors.source is not None and not resume else None
    set_seed(config.seed)
    model = build_model(config, tokenizer)
    collator = build_collator(config, tokenizer)
    if vectors is not None:
        start_from_vectors(model, tokenizer, vectors)
    last_epoch = world.broadcast(
        prepare_run(config, tracker, tokenizer, resume, overwrite, summarize_data(dataset))
        if world.is_main
        else None
    )
    predictor = None
    if world.is_main:
        # Validation tags as `ner evaluate` does (vocabulary extended, documents made consistent), in
        # float32 so that training stays deterministic on every CPU.
        predictor = make_predictor(
            config,
            Tokenizer.load(tracker.tokenizer_path),
            model,
            tracker.run_dir,
            "float32",
            config.predict.document_consistency,
            vectors=vectors,
        )
    settings = config.optimizer.model_dump(exclude={"name", "lr_schedule", "transformer_lr"})
    optimizer = AdamW(parameter_groups(model, config.optimizer.transformer_lr), **settings)
    trainer = Trainer(
        model=model,
        optimizer=optimizer,
        data_collator=collator,
        train_data=training_examples(config, dataset["train"]),
        val_data=dataset["val"] if "val" in dataset else None,
        tracker=tracker if world.is_main else None,
        device=process_device(config.trainer.device, world),
        label_colname="NER",
        seed=config.seed,
        progress=progress,
        grad_clip_max_norm=config.trainer.grad_clip_max_norm,
        use_class_weights=config.trainer.use_class_weights,
        bucket_by_length=config.trainer.bucket_by_length,
        lr_schedule=config.optimizer.lr_schedule,
        predictor=predictor,
        augmentation=CaseAugmentation(config.augment.lower, config.augment.upper, config.seed),
        val_casings=config.train_and_eval.val_casings,
        best_metric=config.train_and_eval.best_metric,
        source_weights=config.train_and_eval.source_weights,
        distillation=Distillation(config.distill.weight, config.distill.schedule)
        if config.distill.teacher
        else None,
    )
    if last_epoch is not None:
        trainer.from_checkpoint(tracker.checkpoint_path(last_epoch))
    elif init_from is not None:
        start_from(trainer, config, tokenizer, Path(init_from), tracker, world, rehearsal)
    run = config.train_and_eval
    # Resuming finishes the planned epochs; starting from another run's checkpoint trains num_epochs more.
    num_epochs = run.num_epochs if last_epoch is not None else trainer.start_epoch + run.num_epochs
    trainer.train_and_eval(
        run.batch_size,
        num_epochs,
        run.checkpoint_every,
        run.num_workers,
        run.patience,
        run.keep_checkpoints,
        run.max_minutes,
    )
    if world.is_main:
        report_best(tracker, dataset, Path(dataset_dir).name)
        report_old_types(tracker, init_from, config, rehearsal)
    return trainer


def start_from(
    trainer: Trainer,
    config: TrainConfig,
    tokenizer: Tokenizer,
    source: Path,
    tracker: ExperimentTracker,
    world: World,
    rehearsal: dict | None = None,
) -> None:
    """Start a new run from `--init`: another run folder (with what was rehearsed), a checkpoint (epoch
    and optimizer restored) or a model file; every process then holds the main process's weights."""
    model = trainer.model
    if source.is_dir():
        if world.is_main:
            start_from_run(model, config, tokenizer, source, tracker, rehearsal)
    elif source.suffix == ".ckpt":
        trainer.from_checkpoint(source)
        trainer.planned_epochs = None
    elif world.is_main:
        model.load_weights(read_weights(source), str(source))
    world.copy_from_main(model)


def report_old_types(
    tracker: ExperimentTracker, source: str | Path | None, config: TrainConfig, rehearsal: dict | None
) -> None:
    """Measure a rehearsing run's source's types before and after on the rehearsal data, into init.json."""
    if rehearsal is None:
        return
    data = config.rehearse.data
    if data is None or tracker.best() is None:
        log.print("the source run's types were not measured after: set rehearse.data (--rehearse-data)")
        return
    path = tracker.run_dir / INIT_FILE
    record = read_json_file(path)
    text_column = config.tokenizer.text_colname
    record["rehearsal"]["f1"] = old_types_before_and_after(Path(source), tracker.run_dir, data, text_column)
    atomic_write_json(path, record)


def report_best(tracker: ExperimentTracker, dataset: DatasetDict, dataset_name: str) -> None:
    """Say which epoch was best, and calibrate that epoch's model on the validation split."""
    best = tracker.best()
    if best is None:
        return
    log.print(f"best epoch {best['epoch']}: {best['metric']} {best['value']:.4f}  ->  {tracker.run_dir}")
    if "val" in dataset:
        calibrate_split(open_run(tracker.run_dir, precision="float32"), dataset["val"], f"{dataset_name}/val")
