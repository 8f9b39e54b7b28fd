"""What several `ner` commands share: the shipped configs and presets, the options of those that tag."""

from __future__ import annotations

import argparse
from pathlib import Path

from ner.utils.config import PRECISIONS
from ner.utils.errors import NerError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "scripts" / "configs"
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"


def presets() -> list[str]:
    """Names of the shipped model presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yml"))


def open_options(args: argparse.Namespace) -> dict:
    """How `predict` and `evaluate` open the model: epoch, document consistency, precision, thresholds."""
    from ner.utils.thresholds import parse_min_score

    return {
        "epoch": args.epoch,
        "document_consistency": args.document_consistency,
        "precision": args.precision,
        "min_score": None if args.min_score is None else parse_min_score(args.min_score),
    }


def parse_workers(value: str) -> int | None:
    """The number of worker processes asked for, or None for `auto` (the workflow's rule decides)."""
    if value == "auto":
        return None
    if not value.isdigit() or int(value) < 1:
        raise NerError(f"--workers takes a number of processes (1 or more) or auto, got {value!r}")
    return int(value)


def add_precision(parser: argparse.ArgumentParser) -> None:
    """The --precision option of the commands that predict."""
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="numeric precision of the network (default: the run's predict.precision); bfloat16 is used "
        "only where a one-time probe finds this CPU runs the model in it faster, else float32",
    )


def add_min_score(parser: argparse.ArgumentParser, default: str) -> None:
    """The --min-score option of the commands that tag."""
    parser.add_argument(
        "--min-score",
        metavar="P | TYPE=P,...",
        help="drop entities scored below P (in [0, 1)), for every type or per named type, e.g. "
        f"PER=0.6,ORG=0.4 (types not named are kept); their tokens become O (default: {default})",
    )


def add_workers(parser: argparse.ArgumentParser, text: str) -> None:
    """The --workers option of the commands that can tag in several processes."""
    parser.add_argument("--workers", default="auto", metavar="N", help=text)


MODEL_HELP = "a run folder, a folder written by `ner export`, or an installed model package's name"
RUN_HELP = "a run folder written by `ner train`, or an installed model package's name"


def add_model_argument(parser: argparse.ArgumentParser, text: str = MODEL_HELP) -> None:
    """The MODEL a command uses, given as its first argument or as --experiment."""
    parser.add_argument("model", nargs="?", metavar="MODEL", help=text)
    parser.add_argument("--experiment", metavar="MODEL", help="MODEL, given as an option")


def model_of(args: argparse.Namespace) -> str:
    """The model a command was given, as MODEL or as --experiment (one of them, or both the same)."""
    given = {name for name in (args.model, args.experiment) if name is not None}
    if len(given) != 1:
        problem = "two different models" if given else "no model"
        raise NerError(f"{problem}: name one, as MODEL or as --experiment MODEL")
    return given.pop()


def add_model_parser(
    sub: argparse._SubParsersAction, name: str, text: str, spans: tuple[str, ...]
) -> argparse.ArgumentParser:
    """Add `predict` or `evaluate` with the options both take: the run, the input, how to open the model."""
    p = sub.add_parser(name, help=text)
    add_model_argument(p)
    p.add_argument("--input", required=True)
    p.add_argument(
        "--format",
        choices=("auto", "json", "conll", "tokens", "raw", "jsonl", *spans),
        default="auto",
        help="input format; auto: .txt raw text (a document a line), .jsonl objects with a text field, "
        ".json the notebook's JSON, .tokens a sentence a line, else CoNLL"
        + (
            "; annotated texts (doccano, Label Studio, spaCy, brat, ner's JSONL: by content) are "
            "scored by exact character spans"
            if spans
            else ""
        ),
    )
    p.add_argument("--epoch", type=int, help="use this epoch's checkpoint instead of the best model")
    p.add_argument(
        "--document-consistency",
        action=argparse.BooleanOptionalAction,
        help="one type per entity phrase within each -DOCSTART- document (default: the run's "
        "predict.document_consistency)",
    )
    add_precision(p)
    add_min_score(p, "the run's predict.min_score")
    return p
