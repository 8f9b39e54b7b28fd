"""`ner evaluate`: score a run on a labelled file, optionally proposing --min-score thresholds."""

from __future__ import annotations

import argparse

from ner.cli.options import add_model_parser, model_of, open_options
from ner.data_processing.augmentation import CASINGS
from ner.utils.errors import NerError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `evaluate` command and its options."""
    spans = ("doccano", "label-studio", "spacy", "brat", "ner-jsonl")
    p = add_model_parser(sub, "evaluate", "score a labelled file", spans)
    p.add_argument("--json", help="also write the metrics to this JSON file")
    p.add_argument(
        "--casing",
        choices=CASINGS,
        default="as-is",
        help="score the text as written, lower-cased or upper-cased (tags unchanged)",
    )
    p.add_argument("--plot", metavar="PNG", help="draw the entity scores' reliability diagram here")
    p.add_argument(
        "--suggest-thresholds",
        action="store_true",
        help="propose per-type --min-score thresholds from this (validation) file: those that "
        "maximise F1, or with --target-precision the lowest that reach it",
    )
    p.add_argument("--target-precision", type=float, metavar="P")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Score the run on the labelled file, writing the metrics to --json if asked."""
    from ner.utils.io import atomic_write_json
    from ner.workflows.evaluation import Scoring, evaluate_file

    target = args.target_precision
    if target is not None and not 0.0 < target <= 1.0:
        raise NerError(f"--target-precision: a precision in (0, 1], got {target}")
    if target is not None and not args.suggest_thresholds:
        raise NerError(
            "--target-precision: the precision suggested thresholds reach; add --suggest-thresholds"
        )
    scoring = Scoring(args.plot, args.suggest_thresholds, target)
    result = evaluate_file(
        model_of(args), args.input, args.format, args.casing, scoring, **open_options(args)
    )
    if args.json:
        atomic_write_json(args.json, result)
