"""Raw text to sentences of tokens with character offsets, by spaCy's rule-based English tokenizer and
sentencizer (no model download), with hyphenated words and number ranges kept whole as in CoNLL-2003
and WikiNEuRal."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import spacy
from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START
from spacy.lang.char_classes import HYPHENS
from spacy.util import compile_infix_regex

MAX_SENTENCE_TOKENS = 200


class Token(NamedTuple):
    """A token and its character offsets in the text (end exclusive)."""

    text: str
    start: int
    end: int


class TextSplitter:
    """Splits raw text into sentences of tokens, each with its offsets. A sentence ends where spaCy's
    sentencizer ends it and at every line break (headlines, datelines and list items are lines of their
    own); sentences longer than `max_tokens` are cut into pieces of at most that many tokens, so no
    input is fed to a model whole. `common_words` are tokenized once up front and kept: each batch is
    split in a memory zone that frees what it adds, so words seen in every batch would otherwise be
    looked up afresh each time."""

    def __init__(self, max_tokens: int = MAX_SENTENCE_TOKENS, common_words: Sequence[str] = ()):
        self.max_tokens = max_tokens
        self.common_words = list(common_words)
        self.nlp = spacy.blank("en")
        infixes = [
            p for p in self.nlp.Defaults.infixes if HYPHENS not in p and not p.startswith("(?<=[0-9])[+\\-")
        ]
        self.nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
        self.nlp.add_pipe("sentencizer")
        self.nlp.max_length = 10**9
        for word in self.common_words:
            self.nlp.tokenizer(word)

    @property
    def name(self) -> str:
        """What splits the text, as shown to users."""
        return f"spacy {spacy.__version__} blank('en') tokenizer + sentencizer, hyphenated words kept whole"

    def split(self, text: str) -> list[list[Token]]:
        """The sentences of one text."""
        return next(self.pipe([text]))

    def pipe(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[list[Token]]]:
        """The sentences of each text, in order, streamed. Each batch is split inside a spaCy memory
        zone, so the words it adds to spaCy's vocabulary are freed after it (a long-running service
        would otherwise grow with every new word it sees)."""
        iterator = iter(texts)
        while chunk := list(itertools.islice(iterator, batch_size)):
            with self.nlp.memory_zone():
                docs = self.nlp.pipe(chunk, batch_size=batch_size)
                split = [self.sentences(doc, text) for doc, text in zip(docs, chunk, strict=True)]
            yield from split

    def sentences(self, doc: spacy.tokens.Doc, text: str) -> list[list[Token]]:
        """The sentences (and lines) of non-space tokens of `text` split into a spaCy Doc, cut to
        `max_tokens`."""
        lines: list[list[Token]] = [[]]
        for start, length, space, sentence_start in doc.to_array(
            [IDX, LENGTH, IS_SPACE, SENT_START]
        ).tolist():
            if sentence_start == 1 and lines[-1]:
                lines.append([])
            if space:
                if "\n" in text[start : start + length] and lines[-1]:
                    lines.append([])
                continue
            lines[-1].append(Token(text[start : start + length], start, start + length))
        return [line[i : i + self.max_tokens] for line in lines for i in range(0, len(line), self.max_tokens)]
