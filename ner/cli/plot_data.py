"""`ner plot-data`: vocabulary-size and sentence-length plots of a dataset."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `plot-data` command and its options."""
    p = sub.add_parser("plot-data", help="vocabulary-size and sentence-length plots of a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--min-freq-for-remove-frac", type=int, default=10)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Draw the dataset's plots into the output folder."""
    from ner.data_processing.dataset import load_dataset
    from ner.utils.visualize import plot_sentence_lengths, plot_vocab_size

    dataset = load_dataset(args.dataset)
    out = Path(args.output_dir)
    plot_vocab_size(dataset, out / "vocab_size.png", args.min_freq_for_remove_frac)
    plot_sentence_lengths(dataset, out / "sentence_lengths.png")
    print(f"plots written to {out}/vocab_size.png and {out}/sentence_lengths.png")
