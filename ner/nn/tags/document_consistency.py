"""Document-level label consistency: one entity string, one type, throughout a document.

A name a tagger recognises in one sentence of a news story it often misses or mistypes in another
(a headline in capitals, a sentence-initial mention). Within each document the predicted entity
strings vote on their type; every mention of a string is then given the winning type, and capitalised
mentions the tagger left untagged are tagged (Krishnan and Manning, 2006, as a decoding step).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from ner.utils.spans import tag_spans

Phrase = tuple[str, ...]


def harmonize_documents(
    tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], documents: Sequence[int | None]
) -> list[list[str]]:
    """Tags made consistent within each document; sentences whose document is None are left as they are."""
    harmonized = [list(t) for t in tags]
    members: dict[int, list[int]] = defaultdict(list)
    for i, document in enumerate(documents):
        if document is not None:
            members[document].append(i)
    for sentence_ids in members.values():
        types = majority_types([tokens[i] for i in sentence_ids], [tags[i] for i in sentence_ids])
        for i in sentence_ids:
            harmonized[i] = harmonize_sentence(tokens[i], harmonized[i], types)
    return harmonized


def phrase(tokens: Sequence[str]) -> Phrase:
    """The lowercased tokens of a mention, the key that mentions are matched by."""
    return tuple(token.lower() for token in tokens)


def majority_types(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> dict[Phrase, str]:
    """Each predicted entity phrase's most frequent type, for phrases without a tie."""
    votes: dict[Phrase, Counter] = defaultdict(Counter)
    for sentence, sentence_tags in zip(tokens, tags, strict=True):
        for entity_type, start, end in tag_spans(sentence_tags):
            votes[phrase(sentence[start : end + 1])][entity_type] += 1
    types = {}
    for key, counts in votes.items():
        ranked = counts.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            types[key] = ranked[0][0]
    return types


def harmonize_sentence(tokens: Sequence[str], tags: list[str], types: dict[Phrase, str]) -> list[str]:
    """One sentence's tags with known phrases retyped and untagged capitalised mentions tagged."""
    tags = list(tags)
    for entity_type, start, end in tag_spans(tags):
        winner = types.get(phrase(tokens[start : end + 1]), entity_type)
        if winner != entity_type:
            label(tags, start, end, winner)
    longest = max((len(key) for key in types), default=0)
    position = 0
    while position < len(tokens):
        length = untagged_match(tokens, tags, position, types, longest)
        if length:
            label(tags, position, position + length - 1, types[phrase(tokens[position : position + length])])
            position += length
        else:
            position += 1
    return tags


def untagged_match(
    tokens: Sequence[str], tags: Sequence[str], start: int, types: dict[Phrase, str], longest: int
) -> int:
    """Length of the longest known phrase at `start` over untagged tokens, capitalised; 0 if none."""
    if not tokens[start][:1].isupper():
        return 0
    for length in range(min(longest, len(tokens) - start), 0, -1):
        if phrase(tokens[start : start + length]) in types and all(
            tag == "O" for tag in tags[start : start + length]
        ):
            return length
    return 0


def label(tags: list[str], start: int, end: int, entity_type: str) -> None:
    """Tag tokens start..end (inclusive) as one entity of `entity_type`."""
    tags[start] = f"B-{entity_type}"
    for position in range(start + 1, end + 1):
        tags[position] = f"I-{entity_type}"
