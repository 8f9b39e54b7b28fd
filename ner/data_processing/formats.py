"""The file formats ner reads and writes, each named once with its suffixes: a format is chosen from a
path here and nowhere else, and a CoNLL sentence is written here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

DOCSTART = "-DOCSTART-"

# Each format's name and the suffixes that choose it, the first being the one ner writes.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "conll": (".conll",),  # token TAB tag lines, a blank line between sentences
    "json": (".json",),  # the notebook's columns; a Label Studio export of tasks
    "tokens": (".tokens",),  # one pre-tokenized sentence a line
    "raw": (".txt",),  # one raw-text document a line
    "jsonl": (".jsonl",),  # one JSON object a line: raw-text documents, entities, annotation exports
    "parquet": (".parquet",),  # a table of raw-text documents, one a row
    "html": (".html",),  # a page of documents with their entities highlighted
}

# The annotation tools whose exports ner reads and whose import formats it writes.
TOOL_FORMATS = ("label-studio", "doccano", "spacy", "brat")


def format_of(path: str | Path, among: Iterable[str]) -> str | None:
    """The format among `among` that the path's suffix names (case aside), or None."""
    suffix = Path(path).suffix.lower()
    return next((name for name in among if suffix in SUFFIXES[name]), None)


def suffixes(*names: str) -> tuple[str, ...]:
    """The suffixes of the formats `names`, in that order."""
    return tuple(suffix for name in names for suffix in SUFFIXES[name])


def listed(*names: str) -> str:
    """The suffixes of the formats `names` for a message: '.jsonl, .txt or .parquet'."""
    found = suffixes(*names)
    return ", ".join(found[:-1]) + f" or {found[-1]}" if len(found) > 1 else found[0]


def file_name(stem: str, name: str) -> str:
    """A file called `stem` in format `name`."""
    return stem + SUFFIXES[name][0]


def conll_sentence(tokens: Sequence[str], tags: Sequence[str]) -> str:
    """One sentence in CoNLL: a token TAB tag line for each token."""
    return "".join(f"{token}\t{tag}\n" for token, tag in zip(tokens, tags, strict=True))
