"""`ner create-dataset`: read a corpus folder into a saved dataset."""

from __future__ import annotations

import argparse

from ner.utils.errors import NerError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `create-dataset` command and its options."""
    p = sub.add_parser(
        "create-dataset",
        help="read corpus folders (JSON, CoNLL or span-annotated text) into one saved dataset",
    )
    p.add_argument(
        "folders",
        nargs="+",
        metavar="CORPUS... OUTPUT",
        help="corpus folders, each with train/val/test .json or .conll (test may be .tokens), or annotated "
        "texts: .jsonl (doccano, spaCy/Prodigy, ner predict's output), Label Studio .json, brat folders; "
        "then the dataset folder to write. Several corpora keep their splits in one dataset, each "
        "sentence's source (its folder's name) in a `source` column",
    )
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
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="TYPE=TYPE",
        help="rename an entity type in every source (PERSON=PER), or drop it (MISC=O); repeatable",
    )
    p.add_argument(
        "--keep-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="keep a type that only one of several sources tags (refused otherwise); repeatable",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Read the corpus folders and save them as one dataset."""
    from ner.utils.spans import parse_type_map
    from ner.workflows.corpus import create_dataset

    if len(args.folders) < 2:
        raise NerError("create-dataset takes one or more corpus folders, then the dataset folder to write")
    *inputs, output = args.folders
    mapping = parse_type_map(args.map)
    create_dataset(inputs, output, args.format, args.max_length, args.misaligned, mapping, args.keep_type)
