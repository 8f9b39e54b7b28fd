"""Experiment tracking: a run's per-epoch metrics, best epoch and checkpoints, kept under the names `ner.runtime.folder` gives."""

from __future__ import annotations

import json
from pathlib import Path

from ner.runtime.folder import (
    BEST_FILE,
    CHECKPOINT_DIR,
    CONFIG_FILE,
    METRICS_SPLITS,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    checkpoint_file,
    checkpoints,
    metrics_file,
    read_best,
)
from ner.utils.io import append_json_line, atomic_write_json, atomic_write_text, read_json_lines


class ExperimentTracker:
    """Knows where a run keeps its config, tokenizer, checkpoints, metrics and best epoch."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)

    @property
    def config_path(self) -> Path:
        return self.run_dir / CONFIG_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.run_dir / TOKENIZER_FILE

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / CHECKPOINT_DIR

    @property
    def model_path(self) -> Path:
        """The best epoch's model, in safetensors."""
        return self.run_dir / WEIGHTS_FILE

    @property
    def best_path(self) -> Path:
        return self.run_dir / BEST_FILE

    def metrics_path(self, split: str) -> Path:
        return self.run_dir / metrics_file(split)

    def checkpoint_path(self, epoch: int) -> Path:
        return self.checkpoint_dir / checkpoint_file(epoch)

    def checkpoints(self) -> dict[int, Path]:
        """Saved checkpoints by epoch."""
        return checkpoints(self.run_dir)

    def prune_checkpoints(self, keep_last: int, also_keep: int | None = None) -> None:
        """Delete all but the `keep_last` newest checkpoints (all kept when 0) and epoch `also_keep`'s."""
        if keep_last == 0:
            return
        epochs = sorted(self.checkpoints())
        keep = set(epochs[-keep_last:]) | {also_keep}
        for epoch in epochs:
            if epoch not in keep:
                self.checkpoint_path(epoch).unlink(missing_ok=True)

    def save_config(self, config: dict) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.config_path, config)

    def log_metrics(self, split: str, epoch: int, metrics: dict[str, float]) -> None:
        """Append one epoch's metrics of a split as a whole JSON line."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        append_json_line(self.metrics_path(split), {"epoch": epoch, "metrics": metrics})

    def read_metrics(self, split: str) -> list[dict]:
        return read_json_lines(self.metrics_path(split))

    def rollback(self, last_epoch: int) -> None:
        """Forget epochs after `last_epoch` (left by a run interrupted before their checkpoint): their
        metrics lines, leftover temporary files, and the best epoch if it was one of them."""
        for split in METRICS_SPLITS:
            records = [r for r in self.read_metrics(split) if r["epoch"] <= last_epoch]
            if self.metrics_path(split).exists():
                atomic_write_text(self.metrics_path(split), "".join(json.dumps(r) + "\n" for r in records))
        for folder in (self.run_dir, self.checkpoint_dir):
            for leftover in folder.glob(".*.tmp") if folder.is_dir() else ():
                leftover.unlink()
        best = self.best()
        if best is not None and best["epoch"] > last_epoch:
            self.best_path.unlink()
            self.model_path.unlink(missing_ok=True)

    def best(self) -> dict | None:
        """The best epoch so far and its validation metrics, if any."""
        return read_best(self.run_dir)

    def save_best(self, epoch: int, metrics: dict[str, float], metric: str = "entity_f1") -> None:
        """Record `epoch` as the best, chosen on `metric` of its validation `metrics`."""
        atomic_write_json(
            self.best_path,
            {"epoch": epoch, "metric": f"val_{metric}", "value": metrics[metric], "val_metrics": metrics},
        )
