"""`ner select`: choose the texts of a pool worth labelling next, written pre-annotated."""

from __future__ import annotations

import argparse

from ner.cli.options import add_model_argument, add_precision, model_of
from ner.data_processing.formats import TOOL_FORMATS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `select` command and its options."""
    p = sub.add_parser("select", help="choose the texts of a pool worth labelling next, pre-annotated")
    add_model_argument(p)
    p.add_argument(
        "--input", required=True, help="the pool: raw text (.txt, a text a line) or .jsonl objects"
    )
    p.add_argument("--n", type=int, required=True, help="how many texts to choose")
    p.add_argument(
        "--strategy",
        choices=("uncertainty", "random", "diverse"),
        default="uncertainty",
        help="uncertainty: the texts the model doubts most (1 - the geometric mean of each token's "
        "probability of its tag); diverse: the same, skipping texts whose words overlap half or more "
        "with one chosen before; random: a uniform sample (--seed)",
    )
    p.add_argument("--output", required=True, help="the chosen texts, most doubtful first, with a doubt each")
    p.add_argument(
        "--output-format",
        choices=("jsonl", *TOOL_FORMATS),
        help="default: from --output's suffix (.jsonl: ner's own, one line a text with its entities); or an "
        "annotation tool's import format",
    )
    p.add_argument("--seed", type=int, default=0, help="random: the draw's seed")
    add_precision(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Choose and write the texts."""
    from ner.workflows.selection import select

    select(
        model_of(args),
        args.input,
        args.n,
        args.strategy,
        args.output,
        args.output_format,
        args.seed,
        precision=args.precision,
    )
