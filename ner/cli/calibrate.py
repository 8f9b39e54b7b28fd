"""`ner calibrate`: fit the calibration of a model's entity scores on a dataset's labelled split."""

from __future__ import annotations

import argparse

from ner.cli.options import add_model_argument, model_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `calibrate` command and its options."""
    p = sub.add_parser(
        "calibrate",
        help="fit the calibration of a model's entity scores on a dataset's labelled split (training "
        "does this itself; for runs and exports made before it did)",
    )
    add_model_argument(p)
    p.add_argument("--dataset", required=True, help="a saved dataset (ner create-dataset)")
    p.add_argument("--split", default="val", help="the split to fit on (never the test split)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Fit the model's score calibration on the split."""
    from ner.workflows.calibration import calibrate_model

    calibrate_model(model_of(args), args.dataset, args.split)
