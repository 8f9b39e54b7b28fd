"""`ner submit`: predict a dataset's test split and zip the notebook's test_preds.csv."""

from __future__ import annotations

import argparse

from ner.cli.options import add_precision
from ner.utils.pairs import parse_pairs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `submit` command and its options."""
    p = sub.add_parser("submit", help="predict a dataset's test split and zip the notebook's test_preds.csv")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output", required=True, help="folder for the zip")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=RUN_DIR",
        help="e.g. ffnn=artefacts/experiments/ffnn",
    )
    p.add_argument("--kind", choices=("leaderboard", "milestone", "final"), default="leaderboard")
    p.add_argument("--net-ids")
    add_precision(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Open each NAME=RUN_DIR model and write the submission zip."""
    from ner.inference.run import open_run
    from ner.workflows.submission import make_submission

    run_dirs = parse_pairs(args.model, "--model", "NAME=RUN_DIR")
    models = {name: open_run(run_dir, precision=args.precision) for name, run_dir in run_dirs.items()}
    make_submission(args.dataset, args.output, models, args.kind, args.net_ids)
