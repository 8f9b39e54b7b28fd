"""Training and evaluation loop with checkpoints, whole-split metrics and best-epoch tracking."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from ner.data_processing.augmentation import CaseAugmentation, RecasedExamples
from ner.data_processing.batch import Batch
from ner.data_processing.constants import LABEL_IGNORE_IDX, TEACHER_COLUMN
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.dataset import as_examples
from ner.data_processing.sources import SOURCE_COLUMN
from ner.inference.predictor import Predictor, index_spans
from ner.models.tagger import Tagger, as_tagger
from ner.nn.module import Module
from ner.trainers.distillation import Distillation
from ner.trainers.distributed import current_world
from ner.trainers.tracker import ExperimentTracker
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.metrics import sequence_metrics
from ner.utils.serialization import load_torch, save_torch
from ner.utils.utils import resolve_device


def bucketed_batches(
    examples: list[dict],
    text_colname: str,
    batch_size: int,
    generator: torch.Generator,
    by_length: bool,
    order: list[int] | None = None,
) -> list[list[int]]:
    """Shuffled batches of the examples (of those in `order`, in that order, if given); with
    `by_length`, each run of 50 batches is grouped by sentence length first, which cuts padding (and
    time) while keeping batches random."""
    if order is None:
        order = torch.randperm(len(examples), generator=generator).tolist()
    if not by_length:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        block = sorted(order[start : start + chunk], key=lambda i: len(examples[i][text_colname]))
        batches.extend(block[i : i + batch_size] for i in range(0, len(block), batch_size))
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def source_counts(
    sources: Sequence[str | None], weights: dict[str, float]
) -> dict[str | None, tuple[list[int], int]]:
    """Each source's example indices and how many of them an epoch shows: its size times its weight
    (1 for a source the weights do not name)."""
    members: dict[str | None, list[int]] = {}
    for i, source in enumerate(sources):
        members.setdefault(source, []).append(i)
    return {s: (ids, round(len(ids) * weights.get(s, 1.0))) for s, ids in members.items()}


def weighted_order(
    sources: Sequence[str | None], weights: dict[str, float], generator: torch.Generator
) -> list[int]:
    """An epoch's examples, shuffled, each source's shown its weight's number of times: whole copies,
    then a share drawn anew each epoch for the fraction."""
    picked: list[int] = []
    for ids, count in source_counts(sources, weights).values():
        whole, rest = divmod(count, len(ids))
        picked += ids * whole
        picked += [ids[i] for i in torch.randperm(len(ids), generator=generator)[:rest].tolist()]
    return [picked[i] for i in torch.randperm(len(picked), generator=generator).tolist()]


class TrainingStep(nn.Module):
    """A tagger's emissions and loss of a batch in one forward pass, so that DistributedDataParallel
    sees every weight the loss reads (a CRF's transitions as well as the network's)."""

    def __init__(self, tagger: Tagger):
        super().__init__()
        self.tagger = tagger

    def forward(
        self, batch: Batch, labels: torch.Tensor, mask: torch.Tensor, class_weights: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's emissions and the tagger's loss of them."""
        emissions = self.tagger(batch)
        return emissions, self.tagger.loss(emissions, labels, mask, class_weights)


def epochs_within(budget_seconds: float, elapsed: float, epoch: int, start_epoch: int) -> int:
    """How many epochs in all fit a time budget, given that epochs `start_epoch`..`epoch` took `elapsed`
    seconds (at least one more than those done, so a run never stops before its first epoch)."""
    done = epoch + 1 - start_epoch
    per_epoch = elapsed / done
    return epoch + 1 + max(0, int((budget_seconds - elapsed) // per_epoch))


class Trainer:
    """Trains a tagger, evaluates it each epoch over the whole split, and keeps checkpoints. `model` is a
    tagger (NERPredictor) or one of the notebook's bare networks, adapted to the tagger contract here.
    Validation tags through `predictor` (by default, one over this model and collator), so a run's best
    epoch is chosen on the predictions that `ner evaluate` makes.

    In a torch.distributed process group, each process trains on its share of every epoch (a
    DistributedSampler's) through DistributedDataParallel, so `batch_size` is per process and the global
    batch is `batch_size` times the processes; the main process alone validates, logs and writes files,
    and its decisions (best epoch, time budget, early stop) hold for all."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data_collator: DataCollator,
        train_data: object,
        val_data: object | None = None,
        grad_clip_max_norm: float | None = None,
        use_class_weights: bool = False,
        class_weights: list[float] | torch.Tensor | None = None,
        tracker: ExperimentTracker | None = None,
        device: str | torch.device = "cpu",
        label_colname: str = "NER",
        seed: int = 0,
        progress: bool = True,
        bucket_by_length: bool = True,
        lr_schedule: str = "constant",
        predictor: Predictor | None = None,
        augmentation: CaseAugmentation | None = None,
        val_casings: Sequence[str] = ("as-is",),
        best_metric: str = "entity_f1",
        source_weights: dict[str, float] | None = None,
        distillation: Distillation | None = None,
    ):
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.tagger = as_tagger(self.model)
        self.world = current_world()
        self.step = TrainingStep(self.tagger)
        if self.world.size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            # No buffer is trained, and the vocabulary extension buffer exists only where validation
            # runs (the main process): buffers are never synced, which only the older flag promises.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "`broadcast_buffers` is deprecated", FutureWarning)
                self.step = DistributedDataParallel(self.step, device_ids=ids, broadcast_buffers=False)
        self.optimizer = optimizer
        self.data_collator = data_collator
        self.label_colname = label_colname
        self.text_colname = data_collator.text_colname
        columns = [self.text_colname, label_colname, SOURCE_COLUMN, TEACHER_COLUMN]
        self.train_data = as_examples(train_data, columns)
        self.val_data = as_examples(val_data, [*columns, "document"]) if val_data is not None else None
        self.distillation = distillation
        if distillation is not None and self.world.size > 1:
            raise ValueError("distillation trains in one process; drop --nproc")
        self.source_weights = dict(source_weights or {})
        named = {e.get(SOURCE_COLUMN) for e in self.train_data}
        for source in sorted(set(self.source_weights) - named):
            raise ValueError(
                f"source weight of {source}: the training data has no such source ({sorted(map(str, named))})"
            )
        self.grad_clip_max_norm = grad_clip_max_norm
        self.tracker = tracker
        self.seed = seed
        self.progress = progress and self.world.is_main
        self.bucket_by_length = bucket_by_length
        if lr_schedule not in ("constant", "linear"):
            raise ValueError(f"lr_schedule must be 'constant' or 'linear', got {lr_schedule!r}")
        self.lr_schedule = lr_schedule
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self._schedule: tuple[int, int] | None = None
        self.label2id = {k: v for k, v in data_collator.label2id.items() if v != LABEL_IGNORE_IDX}
        self.id2label = {v: k for k, v in self.label2id.items()}
        self.other_ner_tag_idx = self.label2id.get("O")
        if use_class_weights and class_weights is None:
            class_weights = self.balanced_class_weights()
        self.class_weights = (
            None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float)
        )
        if self.class_weights is not None and not self.tagger.takes_class_weights:
            raise ValueError("this model's head (a CRF) takes no class weights; set use_class_weights=False")
        if self.class_weights is not None:
            self.class_weights = self.class_weights.to(self.device)
        self.predictor = predictor or Predictor(self.tagger, data_collator, data_collator.labels)
        self.augmentation = augmentation if augmentation is not None and augmentation.active else None
        if "as-is" not in val_casings:
            raise ValueError(f"val_casings must include as-is, got {list(val_casings)}")
        self.val_casings = list(val_casings)
        if best_metric not in ("entity_f1", "entity_f1_casings"):
            raise ValueError(f"best_metric must be entity_f1 or entity_f1_casings, got {best_metric!r}")
        self.best_metric = best_metric
        self.start_epoch = 0
        self.planned_epochs: int | None = None
        self._rng_states: list[torch.Tensor] | None = None
        self._vary_dropout_by_process()

    def balanced_class_weights(self) -> torch.Tensor:
        """n_tokens / (n_classes * count) for each tag seen in training; 1 for tags never seen."""
        num_labels = len(self.label2id)
        ids = np.array(
            [i for ex in self.train_data for i in self.data_collator.encode_labels(ex[self.label_colname])]
        )
        ids = ids[ids != LABEL_IGNORE_IDX]  # transfer text has no gold tags
        present = np.unique(ids)
        weights = np.ones(num_labels, dtype=np.float32)
        weights[present] = compute_class_weight("balanced", classes=present, y=ids)
        return torch.from_numpy(weights)

    def _loader(self, examples: list[dict], batch_size: int, epoch: int, num_workers: int) -> DataLoader:
        """An epoch's shuffled batches of `examples` (this process's share of them when data-parallel);
        the order depends only on the seed and the epoch."""
        generator = torch.Generator().manual_seed(self.seed + epoch)
        order = None
        if self.source_weights:
            order = weighted_order([e.get(SOURCE_COLUMN) for e in examples], self.source_weights, generator)
        if self.world.size > 1:
            order = self._share_of(examples, epoch) if order is None else self._share_of_order(order)
        batches = bucketed_batches(
            examples, self.text_colname, batch_size, generator, self.bucket_by_length, order
        )
        if self.augmentation is not None:
            casings = self.augmentation.casings(len(examples), epoch)
            examples = RecasedExamples(examples, casings, self.text_colname)
        return DataLoader(
            examples, batch_sampler=batches, collate_fn=self.data_collator, num_workers=num_workers
        )

    def _share_of(self, examples: list[dict], epoch: int) -> list[int]:
        """This process's share of an epoch's shuffled examples (every share the same size)."""
        sampler = DistributedSampler(
            examples, num_replicas=self.world.size, rank=self.world.rank, shuffle=True, seed=self.seed
        )
        sampler.set_epoch(epoch)
        return list(sampler)

    def _share_of_order(self, order: list[int]) -> list[int]:
        """This process's share of an epoch's order (the first few repeated so every share is as long)."""
        size = self.world.size
        padded = order + order[: (-len(order)) % size]
        return padded[self.world.rank :: size]

    def _set_lr(self) -> None:
        """Count the step; with the linear schedule, decay the learning rate to zero over the whole run,
        from the step count alone (so resuming keeps it)."""
        if self._schedule is None:
            return
        step, total = self._schedule
        if self.lr_schedule == "linear":
            for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
                group["lr"] = base * max(0.0, 1.0 - step / total)
        self._schedule = (step + 1, total)

    def _batch_loss(self, emissions: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The tagger's loss of a batch (with the class weights, if any)."""
        labels, mask = batch.labels.to(emissions.device), batch.mask.to(emissions.device)
        return self.tagger.loss(emissions, labels, mask, self.class_weights)

    def train_step(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on a batch (in a process group, this process's part of the global batch);
        returns the batch's emissions and loss."""
        self.tagger.train()
        labels, mask = batch.labels.to(self.device), batch.mask.to(self.device)
        emissions, loss = self.step(batch.without_labels().to(self.device), labels, mask, self.class_weights)
        if self.distillation is not None and batch.soft_labels is not None:
            step, total = self._schedule or (0, 1)
            student = self.tagger.marginals(emissions, mask)
            has_gold = bool(((labels != LABEL_IGNORE_IDX) & mask).any())
            loss = self.distillation.loss(
                loss, has_gold, student, batch.soft_labels.to(self.device), step / total
            )
        self._set_lr()
        self.optimizer.zero_grad()
        (loss * self._share_of_loss(labels, mask) if self.world.size > 1 else loss).backward()
        if self.grad_clip_max_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip_max_norm)
        self.optimizer.step()
        return emissions.detach(), loss.detach()

    def _share_of_loss(self, labels: torch.Tensor, mask: torch.Tensor) -> float:
        """The factor that makes the processes' averaged gradients those of the mean loss over the global
        batch: the loss is a mean over this batch's labelled tokens (weighted by class, if weights are
        given), so it is scaled by this batch's share of the global batch's tokens, times the processes."""
        labelled = mask & (labels != LABEL_IGNORE_IDX)
        weight = labelled.sum() if self.class_weights is None else self.class_weights[labels[labelled]].sum()
        local = float(weight)
        (total,) = self.world.sum([local], self.device)
        return local * self.world.size / total

    def _train_epoch(self, data_loader: DataLoader) -> dict[str, float]:
        """Train for one epoch; returns the epoch's metrics over the whole training split, computed once
        over all of its sentences."""
        gold: list[list[int]] = []
        pred: list[list[int]] = []
        loss_sum, num_tokens = 0.0, 0
        with self._progress_bar() as bar:
            task = bar.add_task("train", total=len(data_loader), loss=float("nan"))
            for batch in data_loader:
                emissions, loss = self.train_step(batch)
                tokens = int(batch.mask.sum())
                loss_sum += loss.item() * tokens
                num_tokens += tokens
                for row_gold, row_pred in zip(
                    real_labels(batch), self.predictor.decode(batch, emissions), strict=True
                ):
                    if LABEL_IGNORE_IDX not in row_gold[:1]:  # transfer text has no gold tags
                        gold.append(row_gold)
                        pred.append(row_pred)
                bar.update(task, advance=1, loss=loss_sum / max(num_tokens, 1))
        if self.world.size > 1:
            loss_sum, num_tokens = self.world.sum([loss_sum, num_tokens], self.device)
            gold, pred = self._gathered(data_loader, gold, pred)
        metrics = {"loss": loss_sum / max(num_tokens, 1)}
        if self.world.is_main:
            metrics.update(sequence_metrics(gold, pred, self.id2label))
        return metrics

    def _gathered(
        self, data_loader: DataLoader, gold: list[list[int]], pred: list[list[int]]
    ) -> tuple[list[list[int]], list[list[int]]]:
        """Every process's gold and predicted tags, in the main process, each sentence once (a
        DistributedSampler repeats a few to give every process as many)."""
        indices = [i for batch in data_loader.batch_sampler for i in batch]
        shares = self.world.gather((indices, gold, pred))
        if shares is None:
            return [], []
        rows = {i: (g, p) for share in shares for i, g, p in zip(*share, strict=True)}
        ordered = [rows[i] for i in sorted(rows)]
        return [g for g, _ in ordered], [p for _, p in ordered]

    @torch.inference_mode()
    def validate(self) -> dict[str, float]:
        """Metrics of the validation split as written (and the weighted and micro entity F1 of it in each
        other casing of `val_casings`, keys ending `_lower`, `_upper`; `entity_f1_casings` their mean)."""
        metrics = self.validate_examples(self.val_data)
        f1s = [metrics["entity_f1"]]
        for casing in self.val_casings:
            if casing == "as-is":
                continue
            recased = self.validate_examples(
                RecasedExamples(self.val_data, [casing] * len(self.val_data), self.text_colname)
            )
            for key in ("entity_f1", "entity_f1_micro"):
                metrics[f"{key}_{casing}"] = recased[key]
            f1s.append(recased["entity_f1"])
        if len(f1s) > 1:
            metrics["entity_f1_casings"] = sum(f1s) / len(f1s)
        return metrics

    def validate_examples(self, examples: Sequence[dict]) -> dict[str, float]:
        """Metrics of labelled examples as the predictor tags them: the loop, batches, decoding and
        document consistency of `ner evaluate`, and the loss of those emissions; from several sources,
        also each source's weighted and micro entity F1 (keys ending `@SOURCE`)."""
        gold_tags = [e[self.label_colname] for e in examples]
        loss_sum, num_tokens = 0.0, 0

        def add_loss(batch: Batch, emissions: torch.Tensor) -> None:
            """Add a batch's loss, weighted by its real tokens."""
            nonlocal loss_sum, num_tokens
            tokens = int(batch.mask.sum())
            loss_sum += self._batch_loss(emissions, batch).item() * tokens
            num_tokens += tokens

        tags = self.predictor.predict(
            [e[self.text_colname] for e in examples],
            [e.get("document") for e in examples],
            labels=gold_tags,
            on_batch=add_loss,
        ).tags
        gold = [self.data_collator.encode_labels(row) for row in gold_tags]
        pred = [[self.label2id[t] for t in row] for row in tags]
        metrics = {"loss": loss_sum / max(num_tokens, 1), **sequence_metrics(gold, pred, self.id2label)}
        sources = [e.get(SOURCE_COLUMN) for e in examples]
        if len(set(sources)) > 1:
            for source in dict.fromkeys(sources):
                rows = [i for i, s in enumerate(sources) if s == source]
                own = sequence_metrics([gold[i] for i in rows], [pred[i] for i in rows], self.id2label)
                metrics |= {f"{key}@{source}": own[key] for key in ("entity_f1", "entity_f1_micro")}
        return metrics

    def _progress_bar(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"),
            console=log,
            transient=True,
            disable=not self.progress,
        )

    @torch.no_grad()
    def _eval_epoch(self, dataloader: DataLoader) -> dict[str, float]:
        """Evaluate once over the split a dataloader reads; returns its metrics (the notebook's name for
        `validate_examples`, which tags as `ner evaluate` does)."""
        return self.validate_examples(dataloader.dataset)

    def train_and_eval(
        self,
        batch_size: int = 128,
        num_epochs: int = 10,
        checkpoint_every: int = 1,
        num_workers: int = 0,
        patience: int = 0,
        keep_checkpoints: int = 1,
        max_minutes: float | None = None,
    ) -> list[dict]:
        """Train from `start_epoch` to `num_epochs`, evaluating, logging and checkpointing each epoch;
        with `patience`, stop once val entity F1 has not improved for that many epochs; with
        `max_minutes`, plan only the epochs that fit the budget (the LR schedule ends with them; a
        resumed run keeps its plan, and a plan only shrinks)."""
        history: list[dict] = []
        best = self.world.broadcast(self._best_so_far())
        steps_per_epoch = self._steps_per_epoch(batch_size)
        planned = min(num_epochs, self.planned_epochs or num_epochs)
        started = time.monotonic()
        for epoch in range(self.start_epoch, num_epochs):
            if patience and best is not None and epoch - best["epoch"] > patience:
                log.print(f"early stop: no val entity_f1 gain since epoch {best['epoch']}")
                break
            if epoch >= planned:
                log.print(f"time budget: {max_minutes} minutes fit {planned} epochs")
                break
            self._schedule = (epoch * steps_per_epoch, planned * steps_per_epoch)
            train_loader = self._loader(self.train_data, batch_size, epoch, num_workers)
            epoch_started = time.monotonic()
            train_metrics = self._train_epoch(train_loader)
            epoch_seconds = time.monotonic() - epoch_started
            if self.world.size > 1:
                self._rng_states = self.world.gather(torch.get_rng_state())
            if self.world.is_main:
                val_metrics = self.validate() if self.val_data is not None else None
                if max_minutes is not None:
                    elapsed = time.monotonic() - started
                    planned = min(planned, epochs_within(max_minutes * 60, elapsed, epoch, self.start_epoch))
                    self.planned_epochs = planned
                history.append({"epoch": epoch, "train": train_metrics, "val": val_metrics})
                self._report(epoch, planned, epoch_seconds, train_metrics, val_metrics)
                best = self._keep(
                    epoch, planned, best, train_metrics, val_metrics, checkpoint_every, keep_checkpoints
                )
            planned, best, self.planned_epochs = self.world.broadcast((planned, best, self.planned_epochs))
        return history

    def _steps_per_epoch(self, batch_size: int) -> int:
        """Optimizer steps in an epoch: batches of this process's share of the training split."""
        epoch = len(self.train_data)
        if self.source_weights:
            sources = [e.get(SOURCE_COLUMN) for e in self.train_data]
            epoch = sum(count for _, count in source_counts(sources, self.source_weights).values())
        share = -(-epoch // self.world.size)
        return -(-share // batch_size)

    def _vary_dropout_by_process(self) -> None:
        """Give each process other than the main one its own random stream (the main one keeps the run's),
        so that processes do not drop the same units."""
        if self.world.rank > 0:
            torch.manual_seed(self.seed + 7919 * self.world.rank)

    def _keep(
        self,
        epoch: int,
        planned: int,
        best: dict | None,
        train_metrics: dict,
        val_metrics: dict | None,
        checkpoint_every: int,
        keep_checkpoints: int,
    ) -> dict:
        """Log an epoch's metrics, save the model if it is the best yet and a checkpoint when due;
        returns the best epoch so far."""
        score = (val_metrics or train_metrics)[self._selection_metric(val_metrics)]
        improved = best is None or score > best["value"]
        if improved:
            best = {"epoch": epoch, "value": score}
        if self.tracker is None:
            return best
        self.tracker.log_metrics("train", epoch, train_metrics)
        if val_metrics is not None:
            self.tracker.log_metrics("val", epoch, val_metrics)
        if improved:
            self.tracker.save_best(epoch, val_metrics or train_metrics, self._selection_metric(val_metrics))
            self.model.save_pretrained(self.tracker.model_path)
        if (epoch + 1) % checkpoint_every == 0 or epoch == planned - 1:
            self.save_checkpoint(self.tracker.checkpoint_path(epoch), epoch)
            self.tracker.prune_checkpoints(keep_checkpoints, best["epoch"])
        return best

    @property
    def _load_device(self) -> torch.device:
        """Where checkpoints are loaded: this process's device, or the CPU when they are then sent to
        the other processes."""
        return self.device if self.world.size == 1 else torch.device("cpu")

    def _best_so_far(self) -> dict | None:
        """Best epoch among those already logged (when resuming); best.json and the model file are
        restored from that epoch's checkpoint if a rollback removed them."""
        if self.tracker is None or not self.world.is_main:
            return None
        validated = self.tracker.read_metrics("val")
        records = validated or self.tracker.read_metrics("train")
        if not records:
            return None
        metric = self._selection_metric(validated[0]["metrics"] if validated else None)
        record = max(records, key=lambda r: r["metrics"][metric])
        checkpoint = self.tracker.checkpoint_path(record["epoch"])
        if self.tracker.best() is None and checkpoint.exists():
            current = {k: v.clone() for k, v in self.model.state_dict().items()}
            self.model.load_state_dict(load_torch(checkpoint, self.device)["model_state_dict"])
            self.model.save_pretrained(self.tracker.model_path)
            self.model.load_state_dict(current)
            self.tracker.save_best(record["epoch"], record["metrics"], metric)
        return {"epoch": record["epoch"], "value": record["metrics"][metric]}

    def _selection_metric(self, val_metrics: dict | None) -> str:
        """The metric the best epoch is chosen on: `best_metric` on validation; training's entity F1
        (as written) when there is no validation split."""
        return self.best_metric if val_metrics is not None else "entity_f1"

    @staticmethod
    def _report(epoch: int, num_epochs: int, seconds: float, train: dict, val: dict | None) -> None:
        """One line of an epoch's metrics, and the seconds its training took (validation aside); epochs are
        numbered from 0, as their checkpoints, `--epoch` and the best epoch are."""
        line = (
            f"epoch {epoch} ({epoch + 1} of {num_epochs}, {seconds:.1f} s)  train loss {train['loss']:.4f}"
            f" entity_f1 {train['entity_f1']:.4f}"
        )
        if val is not None:
            line += (
                f"  |  val loss {val['loss']:.4f} entity_f1 {val['entity_f1']:.4f}"
                f" micro_f1 {val['entity_f1_micro']:.4f}"
            )
            line += "".join(
                f" {casing} {val[f'entity_f1_{casing}']:.4f}"
                for casing in ("lower", "upper")
                if f"entity_f1_{casing}" in val
            )
            sources = [key.split("@", 1)[1] for key in val if key.startswith("entity_f1@")]
            line += "".join(
                f"  {s} {val[f'entity_f1@{s}']:.4f}/{val[f'entity_f1_micro@{s}']:.4f}" for s in sources
            )
        log.print(line)

    def save_checkpoint(self, path: str | Path, epoch: int | None = None) -> None:
        """Write model, optimizer, epoch and RNG state as a weights-only torch file, whole or not at all."""
        save_torch(
            path,
            {
                "epoch": self.start_epoch - 1 if epoch is None else epoch,
                "model_state_dict": self.model.state_dict(),
                "optimizer_state_dict": self.optimizer.state_dict(),
                "rng_state": torch.get_rng_state(),
                "process_rng_states": self._rng_states,
                "planned_epochs": self.planned_epochs,
            },
        )

    def from_checkpoint(self, path: str | Path) -> Trainer:
        """Restore model, optimizer and RNG state from a checkpoint; training resumes after its epoch."""
        checkpoint = self.world.broadcast(
            load_torch(path, map_location=self._load_device) if self.world.is_main else None
        )
        if not isinstance(checkpoint, dict) or not {"epoch", "model_state_dict"} <= set(checkpoint):
            raise DataFormatError(str(path), None, "not a checkpoint: expected epoch and model_state_dict")
        load_model_state(self.model, checkpoint["model_state_dict"], str(path))
        if "optimizer_state_dict" in checkpoint:
            self.optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        if "rng_state" in checkpoint:
            torch.set_rng_state(checkpoint["rng_state"].cpu())
        states = checkpoint.get("process_rng_states")
        if states is not None and len(states) == self.world.size:
            torch.set_rng_state(states[self.world.rank].cpu())
        else:
            self._vary_dropout_by_process()
        self.start_epoch = int(checkpoint["epoch"]) + 1
        self.planned_epochs = checkpoint.get("planned_epochs")
        return self

    @staticmethod
    def test(
        test_data: object,
        data_collator: DataCollator,
        model: nn.Module,
        batch_size: int = 128,
        num_workers: int = 0,
        device: str | torch.device = "cpu",
        index_colname: str = "index",
        document_consistency: bool = False,
    ) -> dict[str, list[str]]:
        """Predicted entity spans of a test split, as 'start-end' strings in its index numbering, tagged
        by a Predictor over `model` (the notebook's API; `num_workers` is accepted and unused)."""
        tagger = as_tagger(model.to(resolve_device(device)))
        predictor = Predictor(
            tagger, data_collator, data_collator.labels, "float32", document_consistency, batch_size
        )
        examples = as_examples(test_data, [data_collator.text_colname, index_colname, "document"])
        return index_spans(
            predictor,
            [e[data_collator.text_colname] for e in examples],
            [e[index_colname] for e in examples],
            [e.get("document") for e in examples],
        )


def real_labels(batch: Batch) -> list[list[int]]:
    """Each row's gold label ids over its real tokens, in order."""
    return [row[keep].tolist() for row, keep in zip(batch.labels, batch.mask, strict=True)]


def load_model_state(model: nn.Module, state_dict: dict, source: str) -> None:
    """Load a state dict: into the toolkit's modules with names and shapes checked first, into any other
    torch module as torch does."""
    if isinstance(model, Module):
        model.load_weights(state_dict, source)
    else:
        model.load_state_dict(state_dict)
