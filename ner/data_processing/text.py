"""Raw text to sentences of tokens with character offsets, by spaCy's rule-based English tokenizer and
sentencizer (no model download), with hyphenated words and number ranges kept whole as in CoNLL-2003
and WikiNEuRal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import spacy
from spacy.lang.char_classes import HYPHENS
from spacy.util import compile_infix_regex

MAX_SENTENCE_TOKENS = 200


@dataclass(frozen=True)
class Token:
    """A token and its character offsets in the text (end exclusive)."""

    text: str
    start: int
    end: int


class TextSplitter:
    """Splits raw text into sentences of tokens, each with its offsets. A sentence ends where spaCy's
    sentencizer ends it and at every line break (headlines, datelines and list items are lines of their
    own); sentences longer than `max_tokens` are cut into pieces of at most that many tokens, so no
    input is fed to a model whole."""

    def __init__(self, max_tokens: int = MAX_SENTENCE_TOKENS):
        self.max_tokens = max_tokens
        self.nlp = spacy.blank("en")
        infixes = [
            p for p in self.nlp.Defaults.infixes if HYPHENS not in p and not p.startswith("(?<=[0-9])[+\\-")
        ]
        self.nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
        self.nlp.add_pipe("sentencizer")
        self.nlp.max_length = 10**9

    @property
    def name(self) -> str:
        """What splits the text, as shown to users."""
        return f"spacy {spacy.__version__} blank('en') tokenizer + sentencizer, hyphenated words kept whole"

    def split(self, text: str) -> list[list[Token]]:
        """The sentences of one text."""
        return next(self.pipe([text]))

    def pipe(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[list[Token]]]:
        """The sentences of each text, in order, streamed."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            lines: list[list[Token]] = [[]]
            for token in doc:
                if token.is_sent_start and lines[-1]:
                    lines.append([])
                if token.is_space:
                    if "\n" in token.text and lines[-1]:
                        lines.append([])
                    continue
                lines[-1].append(Token(token.text, token.idx, token.idx + len(token.text)))
            yield [
                line[i : i + self.max_tokens] for line in lines for i in range(0, len(line), self.max_tokens)
            ]
