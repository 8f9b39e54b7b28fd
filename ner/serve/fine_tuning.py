"""Fine-tuning the served model from a Label Studio project's annotations, in the background: the
project's annotated tasks (fetched through Label Studio's API, or sent inline), `ner create-dataset`
and `ner train --init` (which rehearses the types the annotations lack) in subprocesses, then the new
run swapped in under a new version. A failed round leaves the served model in place and is reported;
events that arrive meanwhile start one more round when this one ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ner.data_processing.annotations import task_spans
from ner.runtime.folder import RunFiles, read_config
from ner.runtime.pre_annotations import LabelStudioNames
from ner.utils.console import log
from ner.utils.io import atomic_write_json

URL_ENV, KEY_ENV = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"
# Annotated tasks from which every fifth is held out for validation; fewer validate on all of them.
HOLD_OUT_FROM = 5


class TrainingError(Exception):
    """A fine-tuning round that cannot go on, and why."""


@dataclass(frozen=True)
class ProjectAccess:
    """Where a project's Label Studio answers and the token that reads it, as its setup request said."""

    hostname: str | None = None
    access_token: str | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """How rounds train: into `work_dir`, once a project has `min_annotations` annotated tasks (an
    explicit START_TRAINING or /train request trains on any number), for at most `epochs` epochs and
    `minutes` minutes."""

    work_dir: Path
    min_annotations: int = 10
    epochs: int = 10
    minutes: float = 5.0


def fetch_tasks(project: str, access: ProjectAccess) -> list[dict]:
    """A project's annotated tasks, as Label Studio's JSON export gives them."""
    url = os.environ.get(URL_ENV) or access.hostname
    key = os.environ.get(KEY_ENV) or access.access_token
    if not url or not key:
        raise TrainingError(f"set {URL_ENV} and {KEY_ENV}, or connect the project (its setup sends them)")
    address = f"{url.rstrip('/')}/api/projects/{project}/export?exportType=JSON"
    request = urllib.request.Request(address, headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            tasks = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise TrainingError(f"reading {address}: {err}") from None
    if not isinstance(tasks, list):
        raise TrainingError(f"reading {address}: expected a list of tasks")
    return tasks


def annotated_records(
    tasks: list[dict], names: LabelStudioNames, to_model: Callable[[str], str]
) -> list[dict]:
    """The annotated tasks as `ner`'s JSONL records: the text and its entities of the `<Labels>` tag,
    labels named as the model's types (a task's first annotation not cancelled)."""
    records = []
    for position, task in enumerate(tasks):
        text = (task.get("data") or {}).get(names.text_field)
        where = f"task {task.get('id', position)}"
        spans = (
            task_spans(task, text, "Label Studio", where, names.from_name) if isinstance(text, str) else None
        )
        if spans is not None:
            entities = [{"start": s.start, "end": s.end, "label": to_model(s.label)} for s in spans]
            records.append({"text": text, "entities": entities})
    return records


def round_config(base: RunFiles, epochs: int, minutes: float) -> dict:
    """The served run's config for a fine-tuning round: its labels from the new data and RUN's
    rehearsal, no teacher, `epochs` epochs within `minutes`."""
    config = read_config(base.config).to_dict()
    config.pop("labels", None)
    config.pop("distill", None)
    config.pop("rehearse", None)
    config.setdefault("train_and_eval", {}).update(num_epochs=epochs, max_minutes=minutes)
    return config


def write_corpus(records: list[dict], folder: Path) -> None:
    """train.jsonl and val.jsonl: every fifth record held out, or all in both when there are few."""
    folder.mkdir(parents=True, exist_ok=True)
    held = len(records) >= HOLD_OUT_FROM
    val = records[HOLD_OUT_FROM - 1 :: HOLD_OUT_FROM] if held else records
    train = [r for i, r in enumerate(records) if i % HOLD_OUT_FROM != HOLD_OUT_FROM - 1] if held else records
    for name, rows in (("train", train), ("val", val)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def run_ner(args: list[str], log_file: Path) -> None:
    """`ner ARGS` in a subprocess, its output appended to `log_file`; a failure's last line raised."""
    with open(log_file, "a", encoding="utf-8") as out:
        out.write(f"$ ner {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [sys.executable, "-m", "ner.cli", *args], stdout=out, stderr=subprocess.PIPE, text=True
        )
        out.write(done.stderr)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise TrainingError(f"ner {args[0]}: {lines[-1] if lines else f'exit status {done.returncode}'}")


@dataclass(frozen=True)
class Job:
    """A round asked for: the project, where its labeling config puts entities, how its labels name the
    model's types, its annotated tasks if they were sent (else they are fetched), and whether it was
    asked for outright (it then trains on any number of annotated tasks)."""

    project: str
    names: LabelStudioNames
    to_model: Callable[[str], str]
    tasks: list[dict] | None = None
    forced: bool = False


class FineTuner:
    """Runs fine-tuning rounds of the served run one at a time on a thread of its own, and swaps each
    new run in (`swap(run_dir, version)`). `unable` says why this service cannot fine-tune, if so."""

    def __init__(
        self,
        base: Path | None,
        settings: TrainingSettings,
        swap: Callable[[Path, str], None],
        version: str,
        unable: str | None = None,
    ):
        self.base = base
        self.settings = settings
        self.swap = swap
        self.version = version
        self.unable = unable
        self.access: dict[str, ProjectAccess] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.again: Job | None = None
        self.status = {"status": "idle", "rounds": 0}

    def state(self) -> dict:
        """The last round's status (idle, running, trained, skipped or failed, with why)."""
        with self.lock:
            return dict(self.status)

    def remember(self, project: str, access: ProjectAccess) -> None:
        """Keep how to read a project's annotations."""
        self.access[project] = access

    def request(self, job: Job) -> str:
        """Start a round; with one running, run another after it."""
        if self.unable is not None:
            with self.lock:
                self.status = {"status": "failed", "rounds": self.status["rounds"], "error": self.unable}
            log.print(f"fine-tuning refused: {self.unable}")
            return f"not trained: {self.unable}"
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                self.again = job
                return "queued: a round is training; another follows it"
            self.thread = threading.Thread(target=self.rounds, args=(job,), name="fine-tuning", daemon=True)
            self.status = {"status": "running", "rounds": self.status["rounds"]}
            self.thread.start()
        return "training started"

    def rounds(self, job: Job | None) -> None:
        """Train the job's round, then the one asked for meanwhile, if any."""
        while job is not None:
            self.train_round(job)
            with self.lock:
                job, self.again = self.again, None
                if job is not None:
                    self.status = {"status": "running", "rounds": self.status["rounds"]}

    def train_round(self, job: Job) -> None:
        """One round: annotations, dataset, training, swap; its outcome in the status."""
        rounds = self.status["rounds"]
        try:
            access = self.access.get(job.project, ProjectAccess())
            tasks = job.tasks if job.tasks is not None else fetch_tasks(job.project, access)
            records = annotated_records(tasks, job.names, job.to_model)
            needed = 1 if job.forced else self.settings.min_annotations
            if len(records) < needed:
                outcome = {"status": "skipped", "reason": f"{len(records)} annotated tasks; {needed} needed"}
            else:
                outcome = self.fine_tune(records)
                rounds += 1
        except TrainingError as err:
            outcome = {"status": "failed", "error": str(err)}
        except Exception as err:  # a round must never take the service down; it is reported instead
            outcome = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
        log.print(f"fine-tuning: {outcome}")
        with self.lock:
            self.status = outcome | {"rounds": rounds}

    def fine_tune(self, records: list[dict]) -> dict:
        """Train a new run from the served one on the records and serve it; what happened."""
        version = f"{self.base.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        folder = self.settings.work_dir / version
        folder.mkdir(parents=True, exist_ok=True)
        base = RunFiles.of_folder(self.base)
        write_corpus(records, folder / "corpus")
        atomic_write_json(
            folder / "round-settings.json", round_config(base, self.settings.epochs, self.settings.minutes)
        )
        log_file = folder / "train.log"
        run_ner(["create-dataset", str(folder / "corpus"), str(folder / "dataset")], log_file)
        run_ner(
            [
                "train",
                "--dataset",
                str(folder / "dataset"),
                "--tokenizer",
                str(base.tokenizer),
                "--config",
                str(folder / "round-settings.json"),
                "--init",
                str(self.base),
                "--output",
                str(folder / "run"),
                "--no-progress",
            ],
            log_file,
        )
        self.swap(folder / "run", version)
        self.version = version
        return {
            "status": "trained",
            "model_version": version,
            "annotated_tasks": len(records),
            "run": str(folder / "run"),
        }
