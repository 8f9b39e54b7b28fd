"""`ner train-tokenizer`: build the word vocabulary from a dataset's train split."""

from __future__ import annotations

import argparse

from ner.cli.options import CONFIG_DIR, PRESET_DIR, presets


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `train-tokenizer` command and its options."""
    p = sub.add_parser("train-tokenizer", help="build the word vocabulary from the train split")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output", required=True, help="tokenizer JSON file to write")
    p.add_argument("--config", help="tokenizer YAML (default: the shipped train_tokenizer.yml)")
    p.add_argument("--preset", choices=presets(), help="use the tokenizer settings of a model preset")
    p.add_argument("--min-freq", type=int)
    p.add_argument("--remove-frac", type=float)
    p.add_argument("--lowercase", action="store_true")
    p.add_argument(
        "--case-backoff",
        action="store_true",
        help="look a word's form the vocabulary lacks up by its most frequent casing there",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Build the tokenizer from the config, the preset's tokenizer settings and the flags, in that order."""
    from ner.utils.config import TokenizerConfig, load_config, read_yaml
    from ner.workflows.training import train_tokenizer

    overrides = [read_yaml(PRESET_DIR / f"{args.preset}.yml").get("tokenizer", {})] if args.preset else []
    flags = {
        "min_freq": args.min_freq,
        "remove_frac": args.remove_frac,
        "lowercase": args.lowercase or None,
        "case_backoff": args.case_backoff or None,
    }
    overrides.append({k: v for k, v in flags.items() if v is not None})
    config = load_config(TokenizerConfig, [args.config or CONFIG_DIR / "train_tokenizer.yml"], overrides)
    train_tokenizer(args.dataset, args.output, config)
