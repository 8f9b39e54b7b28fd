"""`ner package`: build an installable wheel and sdist of a run."""

from __future__ import annotations

import argparse

from ner.cli.options import RUN_HELP, add_model_argument, model_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `package` command and its options."""
    p = sub.add_parser("package", help="build an installable wheel and sdist of a run, loaded by its name")
    add_model_argument(p, RUN_HELP)
    p.add_argument("--name", required=True, help="the package's (and model's) name, e.g. news-ner")
    p.add_argument("--version", required=True, help="the package's version, e.g. 1.0.0")
    p.add_argument("--output", required=True, help="folder for the wheel and the sdist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Build the run's wheel and sdist into the output folder."""
    from ner.workflows.package import package_run

    package_run(model_of(args), args.name, args.version, args.output)
