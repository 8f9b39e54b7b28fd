"""`ner report`: compare runs by their best epoch's validation metrics."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `report` command and its options."""
    p = sub.add_parser("report", help="compare runs by their best epoch's validation metrics")
    p.add_argument("runs", nargs="+", help="run folders")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Print the comparison of the runs."""
    from ner.workflows.report import report_runs

    report_runs(args.runs)
