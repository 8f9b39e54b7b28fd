"""Test-set predictions in the notebook's span format, bundled into a submission zip."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from ner.data_processing.dataset import load_dataset
from ner.inference.predictor import index_spans
from ner.inference.run import Run
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_write

SUBMISSION_KINDS = {
    "leaderboard": "leaderboard_submission.zip",
    "milestone": "milestone_submission.zip",
    "final": "hw2_submission.zip",
}
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def spans_csv(spans: dict[str, list[str]]) -> str:
    """The notebook's test_preds.csv: one row per entity type, its spans space-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "pred"])
    for etype, etype_spans in spans.items():
        writer.writerow([etype, " ".join(etype_spans)])
    return buffer.getvalue()


def predict_test_spans(dataset_dir: str | Path, run: Run) -> dict[str, list[str]]:
    """Predicted entity spans of a saved dataset's test split, as 'start-end' strings in its index
    numbering, by the run's Predictor (its precision and document consistency)."""
    dataset = load_dataset(dataset_dir)
    if "test" not in dataset:
        raise DataFormatError(str(dataset_dir), None, "has no test split to predict")
    test = dataset["test"]
    documents = test["document"] if "document" in test.column_names else None
    return index_spans(run.predictor, test["text"], test["index"], documents)


def source_files() -> list[Path]:
    """The package's Python sources, bundled with milestone and final submissions."""
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def make_submission(
    dataset_dir: str | Path,
    output_dir: str | Path,
    models: dict[str, Run],
    kind: str = "final",
    net_ids: str | None = None,
) -> Path:
    """Write `<kind>` zip into `output_dir`: per model `NAME/test_preds.csv` (and, for a final
    submission, its config, tokenizer and weights) plus, for milestone and final, the package sources."""
    if kind not in SUBMISSION_KINDS:
        raise ValueError(f"kind must be one of {sorted(SUBMISSION_KINDS)}, got {kind!r}")
    if kind != "milestone" and not models:
        raise DataFormatError(str(output_dir), None, f"a {kind} submission needs at least one model")
    members: dict[str, bytes | Path] = {}
    for name, run in models.items():
        spans = predict_test_spans(dataset_dir, run)
        members[f"{name}/test_preds.csv"] = spans_csv(spans).encode()
        log.print(f"{name}: " + ", ".join(f"{t} {len(s)}" for t, s in spans.items()) + " predicted spans")
        if kind == "final":
            members[f"{name}/config.json"] = run.files.config
            members[f"{name}/tokenizer.json"] = run.files.tokenizer
            members[f"{name}/{run.files.weights.name}"] = run.files.weights
    if kind != "leaderboard":
        for path in source_files():
            members[str(Path("ner") / path.relative_to(PACKAGE_DIR))] = path
        if net_ids:
            members["net_ids.txt"] = net_ids.encode()
    zip_path = Path(output_dir) / SUBMISSION_KINDS[kind]
    atomic_write(zip_path, lambda tmp: _write_zip(tmp, members))
    log.print(f"submission stored at: {zip_path}")
    return zip_path


def _write_zip(path: Path, members: dict[str, bytes | Path]) -> None:
    """Write the members (bytes or files) into a zip at `path`, in a fixed order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            content = members[name]
            archive.writestr(name, content if isinstance(content, bytes) else content.read_bytes())
