"""`ner export`: export a run to ONNX, a folder that runs without torch."""

from __future__ import annotations

import argparse

from ner.cli.options import RUN_HELP, add_model_argument, model_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `export` command and its options."""
    p = sub.add_parser(
        "export",
        help="export a run to ONNX: a folder that ner.load, ner predict and ner serve run without torch",
    )
    add_model_argument(p, RUN_HELP)
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--output", required=True, help="the folder to write (must not exist)")
    p.add_argument(
        "--quantize",
        choices=["int8"],
        help="int8 dynamic quantization, kept only if validation F1 stays within 0.003 (needs --dataset)",
    )
    p.add_argument(
        "--dataset",
        help="a saved dataset whose val split checks the export against torch (default: sentences of the "
        "vocabulary's words, tags only)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Export the run to ONNX in the output folder."""
    from ner.export.onnx import export_run

    export_run(model_of(args), args.output, args.format, args.quantize, args.dataset)
