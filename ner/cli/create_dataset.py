"""`ner create-dataset`: read a corpus folder into a saved dataset."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `create-dataset` command and its options."""
    p = sub.add_parser(
        "create-dataset",
        help="read a corpus folder (JSON, CoNLL or span-annotated text) into a saved dataset",
    )
    p.add_argument(
        "input_dir",
        help="folder with train/val/test .json or .conll (test may be .tokens), or annotated texts: "
        ".jsonl (doccano, spaCy/Prodigy, ner predict's output), Label Studio .json, brat folders",
    )
    p.add_argument("output_dir")
    p.add_argument(
        "--format",
        choices=("auto", "json", "conll", "doccano", "label-studio", "spacy", "brat", "ner-jsonl"),
        default="auto",
        help="auto: from the files' names and content",
    )
    p.add_argument(
        "--misaligned",
        choices=("error", "expand", "contract", "skip"),
        default="error",
        help="annotated texts: a span that does not fit the tokens stops with FILE:LINE (error), or is "
        "grown to the tokens it touches, shrunk to those it covers, or skipped; counted per type",
    )
    p.add_argument("--max-length", type=int, default=None, help="truncate longer sentences (counted)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Read the corpus folder and save it as a dataset."""
    from ner.workflows.corpus import create_dataset

    create_dataset(args.input_dir, args.output_dir, args.format, args.max_length, args.misaligned)
