"""The `ner` command: its parser, made of one module per subcommand, its entry point and its exit statuses."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable

from ner.cli import (
    calibrate,
    create_dataset,
    evaluate,
    export_model,
    inspect,
    package_model,
    plot_data,
    predict,
    report_runs,
    select,
    serve,
    submit,
    train,
    train_tokenizer,
)
from ner.cli.options import CONFIG_DIR, PRESET_DIR, presets
from ner.utils.errors import NerError, require_training

__all__ = ["CONFIG_DIR", "PRESET_DIR", "build_parser", "main", "presets", "run_safely"]

COMMANDS = (
    create_dataset,
    train_tokenizer,
    train,
    predict,
    select,
    evaluate,
    submit,
    inspect,
    serve,
    calibrate,
    package_model,
    export_model,
    report_runs,
    plot_data,
)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so temporary files are cleaned up on the way out."""
    raise KeyboardInterrupt


TRAINING_COMMANDS = {
    "create-dataset",
    "train-tokenizer",
    "train",
    "evaluate",
    "submit",
    "inspect",
    "plot-data",
    "package",
    "report",
    "export",
    "calibrate",
}


def run_safely(main: Callable[[], object]) -> int:
    """Run a command, turning toolkit errors into one line on stderr and exit status 2."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main()
    except NerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: files written so far are complete; resume training with --resume", file=sys.stderr
        )
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `ner` command."""
    parser = argparse.ArgumentParser(prog="ner", description="Neural named-entity recognition.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ner` command."""
    args = build_parser().parse_args(argv)

    def command() -> None:
        """Check that a training command has its extra installed, then run the command."""
        if args.command in TRAINING_COMMANDS:
            require_training(f"ner {args.command}")
        args.func(args)

    return run_safely(command)
