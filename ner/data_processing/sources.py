"""Several corpora in one dataset: each source's splits kept (a `source` column names each sentence's
corpus), entity types renamed to one set, and the sources recorded beside the dataset."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import datasets

from ner.utils.console import log
from ner.utils.errors import NerError

SOURCE_COLUMN = "source"
SOURCES_FILE = "sources.json"
NO_TYPE = "O"


def mapped_tags(tags: Sequence[str], mapping: dict[str, str]) -> list[str]:
    """BIO tags with their types renamed by `mapping`; a type mapped to O becomes O."""
    renamed = []
    for tag in tags:
        new = mapping.get(tag[2:], tag[2:]) if tag != NO_TYPE else NO_TYPE
        renamed.append(NO_TYPE if new == NO_TYPE else f"{tag[:2]}{new}")
    return renamed


def entity_types(dataset: datasets.DatasetDict, label_colname: str = "NER") -> set[str]:
    """The entity types of a dataset's labelled splits."""
    found = set()
    for split in dataset.values():
        if label_colname in split.column_names:
            found.update(tag[2:] for tags in split[label_colname] for tag in tags if tag != NO_TYPE)
    return found


def rename_types(dataset: datasets.DatasetDict, mapping: dict[str, str]) -> datasets.DatasetDict:
    """A dataset with the entity types of its tags renamed by `mapping`."""
    if not mapping:
        return dataset
    renamed = {}
    for name, split in dataset.items():
        if "NER" in split.column_names:
            tags = [mapped_tags(row, mapping) for row in split["NER"]]
            feature = split.features["NER"]
            split = split.remove_columns("NER").add_column("NER", tags, feature=feature)
        renamed[name] = split
    return datasets.DatasetDict(renamed)


def check_shared_types(types: dict[str, set[str]], kept: Sequence[str]) -> None:
    """Refuse, among several sources, an entity type that only one source has, unless kept on purpose:
    a type one corpus tags and another leaves untagged teaches the model to miss it."""
    if len(types) < 2:
        return
    for source, own in types.items():
        others = set().union(*(t for name, t in types.items() if name != source))
        for etype in sorted(own - others - set(kept)):
            raise NerError(
                f"entity type {etype} is only in source {source} (the others have "
                f"{', '.join(sorted(others))}): map it (--map {etype}=TYPE, or {etype}=O to drop it) "
                f"or keep it on purpose (--keep-type {etype})"
            )


def combine(sources: dict[str, datasets.DatasetDict]) -> datasets.DatasetDict:
    """One dataset of several: each split holds the rows of every source that has it, in source order,
    with a `source` column; document numbers are kept apart; a split keeps its tags only where every
    source's split has them."""
    combined = {}
    for split in dict.fromkeys(split for source in sources.values() for split in source):
        parts = {name: source[split] for name, source in sources.items() if split in source}
        labelled = all("NER" in part.column_names for part in parts.values())
        untagged = [name for name, part in parts.items() if "NER" not in part.column_names]
        if untagged and len(untagged) < len(parts):
            log.print(f"{split}: tags left out, as {', '.join(untagged)} has none in this split")
        documents = any("document" in part.column_names for part in parts.values())
        offset, pieces = 0, []
        for name, part in parts.items():
            part = part if labelled else part.remove_columns([c for c in ("NER",) if c in part.column_names])
            part, offset = _numbered_documents(part, offset, documents)
            pieces.append(part.add_column(SOURCE_COLUMN, [name] * len(part)))
        combined[split] = datasets.concatenate_datasets(pieces)
    return datasets.DatasetDict(combined)


def _numbered_documents(part: datasets.Dataset, offset: int, documents: bool) -> tuple[datasets.Dataset, int]:
    """The part with document numbers from `offset` on (none where it marks no documents), and the next
    free number; no column when no source marks documents."""
    if not documents:
        return part, offset
    if "document" not in part.column_names:
        column = [None] * len(part)
        return part.add_column("document", column, feature=datasets.Value("int32")), offset
    numbers = part["document"]
    shifted = [None if n is None else n + offset for n in numbers]
    part = part.remove_columns("document").add_column("document", shifted, feature=datasets.Value("int32"))
    return part, offset + max((n for n in numbers if n is not None), default=-1) + 1


def write_sources(folder: Path, records: list[dict]) -> None:
    """Record the sources of a dataset in its folder."""
    (folder / SOURCES_FILE).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")


def read_sources(folder: str | Path) -> list[dict]:
    """The sources a dataset records (none for one saved before sources were recorded)."""
    path = Path(folder) / SOURCES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
