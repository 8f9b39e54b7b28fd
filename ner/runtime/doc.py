"""A tagged text: its sentences of tokens with offsets, tags, entities with probabilities, and n-best.
`Entity` and `TagSequence` are the one schema of what tagging finds: the service's responses and the
Ray tagger's Arrow columns are read from their fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated

from pydantic import Field

from ner.data_processing.text import Token

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


@dataclass(frozen=True)
class Entity:
    """An entity: its text, type, character offsets (`end` exclusive) and the model's probability of
    exactly this span with this type."""

    text: str
    label: str
    start: int
    end: int
    score: Probability

    def to_dict(self) -> dict:
        """The entity as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class TagSequence:
    """One tagging of a sentence and its probability."""

    tags: list[str]
    probability: Probability


@dataclass
class Doc:
    """A tagged text: its sentences of tokens, their tags, the entities, (if asked) each sentence's k best
    tag sequences with their probabilities, and the model's doubt of its tags (`scoring.doubt`)."""

    text: str
    sentences: list[list[Token]]
    tags: list[list[str]]
    entities: list[Entity]
    nbest: list[list[tuple[list[str], float]]] | None = field(default=None)
    doubt: float = 0.0

    @property
    def tokens(self) -> list[Token]:
        """Every token, in order."""
        return [token for sentence in self.sentences for token in sentence]

    def found(self) -> dict:
        """What tagging adds to an input record: its entities (and best tag sequences, if it has them)."""
        data = self.to_dict(sentences=False)
        del data["text"]
        return data

    def to_dict(self, sentences: bool = True, nbest: int | None = None) -> dict:
        """The document as JSON-ready data: its text, entities, (with `sentences`) its tokens and tags,
        and the best tag sequences if it has them (the first `nbest` of each sentence's, if given)."""
        data = {"text": self.text, "entities": [e.to_dict() for e in self.entities]}
        if sentences:
            data["sentences"] = [
                {
                    "start": sentence[0].start,
                    "end": sentence[-1].end,
                    "tokens": [
                        {"text": t.text, "start": t.start, "end": t.end, "tag": tag}
                        for t, tag in zip(sentence, tags, strict=True)
                    ],
                }
                for sentence, tags in zip(self.sentences, self.tags, strict=True)
            ]
        if self.nbest is not None and nbest != 0:
            data["nbest"] = [
                [asdict(TagSequence(tags, p)) for tags, p in sentence[:nbest]] for sentence in self.nbest
            ]
        return data


def pretokenized(tokens: list[str]) -> tuple[str, list[list[Token]]]:
    """A token list as one sentence of the text that joins its tokens with spaces."""
    sentence, start = [], 0
    for token in tokens:
        sentence.append(Token(token, start, start + len(token)))
        start += len(token) + 1
    return " ".join(tokens), [sentence] if sentence else []
