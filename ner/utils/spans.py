"""Entity spans from BIO tag sequences."""

from __future__ import annotations

from collections.abc import Sequence

from ner.data_processing.constants import NER_DECODING_MAP
from ner.utils.pairs import parse_pairs

DEFAULT_ENTITY_TYPES = ("LOC", "MISC", "PER", "ORG")


def orphan_inside(previous: str, tag: str) -> bool:
    """Whether `tag` is an I-X that does not continue an X entity after the tag `previous`."""
    return tag.startswith("I-") and (previous[:2] not in ("B-", "I-") or previous[2:] != tag[2:])


def listed_types(id2label: dict[int, str]) -> list[str]:
    """Entity types of a label map in the order tables, pages and model cards list them: the notebook's
    four first, then the rest alphabetically. (A tag scheme's own order is `schemes.entity_types`.)"""
    found = {label[2:] for label in id2label.values() if label[:2] in ("B-", "I-")}
    return [t for t in DEFAULT_ENTITY_TYPES if t in found] + sorted(found - set(DEFAULT_ENTITY_TYPES))


def get_named_entity_spans(
    encoded_ner_ids: Sequence[int],
    token_idxs: Sequence[int] | None = None,
    id2label: dict[int, str] | None = None,
) -> dict[str, list[tuple[int, int]]]:
    """Inclusive (start, end) spans per entity type: a B- tag and the directly following I- tags of its type.

    Positions are those of `token_idxs` when given, else positions in the sequence. An I- tag that does
    not continue an entity of its own type starts none.
    """
    id2label = NER_DECODING_MAP if id2label is None else id2label
    spans: dict[str, list[tuple[int, int]]] = {t: [] for t in DEFAULT_ENTITY_TYPES}
    positions = list(range(len(encoded_ner_ids))) if token_idxs is None else [int(i) for i in token_idxs]
    if len(positions) != len(encoded_ner_ids):
        raise ValueError("token_idxs and encoded_ner_ids differ in length")
    tags = [id2label.get(int(tag_id), "O") for tag_id in encoded_ner_ids]
    for entity_type, start, end in tag_spans(tags):
        spans.setdefault(entity_type, []).append((positions[start], positions[end]))
    return spans


def tag_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(type, start, end) of each entity in a BIO tag sequence, end inclusive, in order.

    An entity is a B- tag and the directly following I- tags of its type; an I- tag that does not
    continue an entity of its own type starts none.
    """
    spans: list[tuple[str, int, int]] = []
    current: str | None = None
    start = 0
    for position, tag in enumerate(tags):
        if tag.startswith("I-") and current == tag[2:]:
            continue
        if current is not None:
            spans.append((current, start, position - 1))
            current = None
        if tag.startswith("B-"):
            current, start = tag[2:], position
    if current is not None:
        spans.append((current, start, len(tags) - 1))
    return spans


def parse_type_map(items: Sequence[str], flag: str = "--map") -> dict[str, str]:
    """`OLD=NEW` items (of the option `flag`) as a mapping of entity types; NEW may be O, which drops
    the type."""
    return parse_pairs(items, flag, "TYPE=TYPE (for instance PERSON=PER, or MISC=O to drop one)")
