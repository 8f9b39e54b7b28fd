"""Raw text in, entities with character offsets and probabilities out: the toolkit's Python API."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.text import TextSplitter, Token
from ner.data_processing.tokenizer import Tokenizer
from ner.inference.run import Run, RunFiles, open_run
from ner.inference.workers import ordered_map
from ner.nn.tags.chain import Chain
from ner.nn.tags.schemes import TAG_SCHEMES
from ner.utils.spans import tag_spans

TextInput = str | list[str]
SPECIAL = {PAD_TOKEN, UNK_TOKEN}
T = TypeVar("T")


@dataclass(frozen=True)
class Entity:
    """An entity: its text, type, character offsets (`end` exclusive) and the model's probability of
    exactly this span with this type."""

    text: str
    label: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict:
        """The entity as JSON-ready data."""
        return asdict(self)


@dataclass
class Doc:
    """A tagged text: its sentences of tokens, their tags, the entities, and (if asked) each sentence's
    k best tag sequences with their probabilities."""

    text: str
    sentences: list[list[Token]]
    tags: list[list[str]]
    entities: list[Entity]
    nbest: list[list[tuple[list[str], float]]] | None = field(default=None)

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
                [{"tags": tags, "probability": p} for tags, p in sentence[:nbest]] for sentence in self.nbest
            ]
        return data


def pretokenized(tokens: list[str]) -> tuple[str, list[list[Token]]]:
    """A token list as one sentence of the text that joins its tokens with spaces."""
    sentence, start = [], 0
    for token in tokens:
        sentence.append(Token(token, start, start + len(token)))
        start += len(token) + 1
    return " ".join(tokens), [sentence] if sentence else []


class Pipeline:
    """A trained run ready for raw text: `pipeline(text)` gives a Doc, `pipeline.pipe(texts)` streams
    them. Texts are split into sentences (long ones into pieces) and tagged by the run's Predictor."""

    def __init__(self, run: Run, splitter: TextSplitter | None = None):
        self.run = run
        self.splitter = splitter or TextSplitter(common_words=common_words(run.tokenizer))
        self.scheme = TAG_SCHEMES[run.config.model.tag_scheme](run.config.labels)
        self.to_bio = self.scheme.to_bio

    @classmethod
    def load(cls, source: str | Path | RunFiles, **options: object) -> Pipeline:
        """The pipeline of a run folder's best model (`options` as `open_run` takes them)."""
        return cls(open_run(source, **options))

    @property
    def tokenizer_name(self) -> str:
        """What splits raw text into tokens."""
        return self.splitter.name

    def __call__(self, text: TextInput, nbest: int = 0) -> Doc:
        """The Doc of one text (a string, or a list of tokens taken as one sentence)."""
        return self.process([text], nbest)[0]

    def pipe(
        self, texts: Iterable[TextInput], batch_size: int = 64, nbest: int = 0, n_process: int = 1
    ) -> Iterator[Doc]:
        """The Doc of each text, in input order, `batch_size` texts at a time; with `n_process` > 1,
        tagged by that many worker processes, each opening this run itself with its share of the cores
        (at most two batches per worker are held in memory)."""
        if n_process < 1:
            raise ValueError(f"n_process must be 1 or more, got {n_process}")
        chunks = chunked(texts, batch_size)
        if n_process == 1:
            for chunk in chunks:
                yield from self.process(chunk, nbest)
            return
        for docs in ordered_map(process_in_worker, ((c, nbest) for c in chunks), n_process, *self.reopen()):
            yield from docs

    def reopen(self) -> tuple[object, tuple]:
        """How a worker process opens this same pipeline: the setup function and its arguments."""
        predictor = self.run.predictor
        options = {
            "precision": predictor.precision,
            "document_consistency": predictor.document_consistency,
            "batch_size": predictor.batch_size,
        }
        return open_in_worker, (self.run.files, options, self.splitter.max_tokens, self.splitter.common_words)

    def process(self, texts: list[TextInput], nbest: int = 0) -> list[Doc]:
        """The Docs of a list of texts, tagged together (each text is one document for consistency)."""
        raw = iter(self.splitter.pipe([t for t in texts if isinstance(t, str)]))
        split = [(t, next(raw)) if isinstance(t, str) else pretokenized(list(t)) for t in texts]
        sentences = [[token.text for token in s] for _, doc in split for s in doc]
        documents = [i for i, (_, doc) in enumerate(split) for _ in doc]
        tagged = self.run.predictor.predict(sentences, documents, scores=True)
        docs, position = [], 0
        for text, doc_sentences in split:
            count = len(doc_sentences)
            doc_tags = tagged.tags[position : position + count]
            doc_chains = tagged.chains[position : position + count]
            position += count
            entities = [
                entity
                for sentence, sentence_tags, chain in zip(doc_sentences, doc_tags, doc_chains, strict=True)
                for entity in self.entities(text, sentence, sentence_tags, chain)
            ]
            best = [self.best_paths(chain, nbest) for chain in doc_chains] if nbest > 0 else None
            docs.append(Doc(text, doc_sentences, doc_tags, entities, best))
        return docs

    def entities(self, text: str, sentence: list[Token], tags: list[str], chain: Chain) -> list[Entity]:
        """The entities of one tagged sentence, with their span probabilities."""
        found = []
        for label, first, last in tag_spans(tags):
            start, end = sentence[first].start, sentence[last].end
            score = chain.span_probability(first, *self.scheme.span_tags(label, last - first + 1))
            found.append(Entity(text[start:end], label, start, end, round(score, 6)))
        return found

    def best_paths(self, chain: Chain, k: int) -> list[tuple[list[str], float]]:
        """The k most probable tag sequences of a sentence, as tags, with their probabilities."""
        labels, to_bio = self.run.labels, self.to_bio
        return [([labels[to_bio[i]] for i in path], round(p, 6)) for path, p in chain.best_paths(k)]


COMMON_WORDS = 5000


def common_words(tokenizer: Tokenizer) -> list[str]:
    """The vocabulary's most frequent words (a trained vocabulary lists them first)."""
    return [word for word in itertools.islice(tokenizer.token2id, COMMON_WORDS + 2) if word not in SPECIAL]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_worker_pipeline: Pipeline | None = None


def open_in_worker(files: RunFiles, options: dict, max_tokens: int, words: list[str]) -> None:
    """A worker process's own pipeline of the run."""
    global _worker_pipeline
    _worker_pipeline = Pipeline(open_run(files, **options), TextSplitter(max_tokens, words))


def worker_pipeline() -> Pipeline:
    """This worker process's pipeline, opened by `open_in_worker`."""
    if _worker_pipeline is None:
        raise RuntimeError("no pipeline was opened in this process")
    return _worker_pipeline


def process_in_worker(job: tuple[list[TextInput], int]) -> list[Doc]:
    """The Docs of one chunk of texts, in a worker process."""
    texts, nbest = job
    return worker_pipeline().process(texts, nbest)
