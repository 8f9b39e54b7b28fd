"""`ner inspect`: show a run's predictions for a sentence, optionally an activation heatmap."""

from __future__ import annotations

import argparse

from ner.cli.options import RUN_HELP, add_model_argument, model_of
from ner.utils.errors import NerError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `inspect` command and its options."""
    p = sub.add_parser(
        "inspect", help="show a run's predictions for a sentence, optionally an activation heatmap"
    )
    add_model_argument(p, RUN_HELP)
    p.add_argument("--text", required=True, help="space-separated tokens")
    p.add_argument("--labels", help="space-separated true tags, to colour the table")
    p.add_argument("--epoch", type=int)
    p.add_argument(
        "--module",
        help="submodule whose activations to plot (default: the output layer, head.projection)",
    )
    p.add_argument("--activations", help="PNG file for the activation heatmap")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Print the run's predictions for the tokens and draw a submodule's activations if asked."""
    from ner.inference.run import open_run
    from ner.utils.visualize import inspect_preds, visualize_activations

    opened = open_run(model_of(args), args.epoch, precision="float32")
    tokens = args.text.split()
    labels = args.labels.split() if args.labels else None
    if labels is not None and len(labels) != len(tokens):
        raise NerError(f"--labels has {len(labels)} tags for {len(tokens)} tokens")
    model, predictor = opened.model, opened.predictor
    inspect_preds(opened.tokenizer, model, tokens, labels, opened.id2label, predictor=predictor)
    if args.activations:
        name = args.module or next(n for n, _ in model.named_modules() if n.endswith("head.projection"))
        try:
            module = model.get_submodule(name)
        except AttributeError:
            names = ", ".join(n for n, m in model.named_modules() if n and not list(m.children()))
            raise NerError(f"--module {name!r} is not a submodule of this model; try {names}") from None
        visualize_activations(
            opened.tokenizer,
            model,
            module,
            tokens,
            labels,
            id2label=opened.id2label,
            output_path=args.activations,
            predictor=predictor,
        )
        print(f"activations of {name} -> {args.activations}")
