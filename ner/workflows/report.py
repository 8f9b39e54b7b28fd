"""A table comparing trained runs by their best epoch's validation metrics."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ner.inference.run import open_run
from ner.utils.console import console
from ner.utils.errors import DataFormatError

COLUMNS = {
    "loss": "loss",
    "f1": "token F1",
    "entity_f1": "entity F1 weighted",
    "entity_precision_micro": "P micro",
    "entity_recall_micro": "R micro",
    "entity_f1_micro": "F1 micro",
    "entity_f1_lower": "weighted, lower-cased",
    "entity_f1_upper": "weighted, upper-cased",
}


def report_runs(run_dirs: list[str | Path]) -> Table:
    """Print and return one row per run: model, parameters, best epoch and its val metrics."""
    table = Table(title="validation metrics at each run's best epoch (entity_f1 = weighted, as the notebook)")
    for column in ("run", "model", "params", "best epoch", *COLUMNS.values()):
        table.add_column(column, justify="left" if column in ("run", "model") else "right")
    for run_dir in run_dirs:
        run = open_run(run_dir, precision="float32")
        best = run.best()
        if best is None:
            raise DataFormatError(str(run_dir), None, "has no best.json: no epoch has finished")
        metrics = best["val_metrics"]
        table.add_row(
            Path(run_dir).name,
            run.config.model.encoder.name,
            f"{run.model.num_params():,}",
            str(best["epoch"]),
            *(f"{metrics[c]:.4f}" if c in metrics else "-" for c in COLUMNS),
        )
    console.print(table)
    return table
