"""Raw text in, entities with character offsets and probabilities out: the toolkit's Python API, the
same over a torch run and an exported model."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.text import TextSplitter, Token
from ner.data_processing.vocabulary import Vocabulary
from ner.nn.tags.chain import Chain
from ner.nn.tags.scoring import ScoredSpan, doubt
from ner.runtime.doc import Doc, Entity, pretokenized
from ner.runtime.model import Model
from ner.runtime.workers import WorkerSetup, ordered_map
from ner.utils.thresholds import MinScore

TextInput = str | list[str]
SPECIAL = {PAD_TOKEN, UNK_TOKEN}
T = TypeVar("T")
# Texts tagged together: enough sentences to fill batches, few enough that what they hold while being
# tagged (docs, tag chains) stays small; every streaming caller tags this many at a time.
TEXTS_PER_CHUNK = 64


class Pipeline:
    """A trained model ready for raw text: `pipeline(text)` gives a Doc, `pipeline.pipe(texts)` streams
    them. Texts are split into sentences (long ones into pieces) and tagged by the model's predictor."""

    def __init__(self, model: Model, splitter: TextSplitter | None = None):
        self.model = model
        self.splitter = splitter or TextSplitter(common_words=common_words(model.vocabulary))
        self.to_bio = model.predictor.scheme.to_bio

    @property
    def tokenizer_name(self) -> str:
        """What splits raw text into tokens."""
        return self.splitter.name

    def __call__(self, text: TextInput, nbest: int = 0, min_score: MinScore | None = None) -> Doc:
        """The Doc of one text (a string, or a list of tokens taken as one sentence); entities scored
        below `min_score` (default: the model's) are left out."""
        return self.process([text], nbest, min_score)[0]

    def pipe(
        self,
        texts: Iterable[TextInput],
        batch_size: int = TEXTS_PER_CHUNK,
        nbest: int = 0,
        n_process: int = 1,
        min_score: MinScore | None = None,
    ) -> Iterator[Doc]:
        """The Doc of each text, in input order, `batch_size` texts at a time; with `n_process` > 1,
        tagged by that many worker processes, each opening this model itself with its share of the cores
        (at most two batches per worker are held in memory). Entities scored below `min_score` (default:
        the model's) are left out."""
        if n_process < 1:
            raise ValueError(f"n_process must be 1 or more, got {n_process}")
        min_score = self.model.predictor.thresholds(min_score)
        chunks = chunked(texts, batch_size)
        if n_process == 1:
            for chunk in chunks:
                yield from self.process(chunk, nbest, min_score)
            return
        jobs = ((chunk, nbest, min_score) for chunk in chunks)
        for docs in ordered_map(process_in_worker, jobs, n_process, self.reopen()):
            yield from docs

    def reopen(self) -> WorkerSetup:
        """How a worker process opens this same pipeline."""
        opener, args = self.model.reopen()
        return WorkerSetup(
            open_in_worker,
            (opener, args, self.splitter.max_tokens, self.splitter.common_words),
            (opener.__module__,),
        )

    def process(self, texts: list[TextInput], nbest: int = 0, min_score: MinScore | None = None) -> list[Doc]:
        """The Docs of a list of texts, tagged together (each text is one document for consistency);
        entities scored below `min_score` (default: the model's) are left out."""
        raw = iter(self.splitter.pipe([t for t in texts if isinstance(t, str)]))
        split = [(t, next(raw)) if isinstance(t, str) else pretokenized(list(t)) for t in texts]
        sentences = [[token.text for token in s] for _, doc in split for s in doc]
        documents = [i for i, (_, doc) in enumerate(split) for _ in doc]
        tagged = self.model.predictor.predict(sentences, documents, scores=True, min_score=min_score)
        docs, position = [], 0
        for text, doc_sentences in split:
            count = len(doc_sentences)
            doc_tags = tagged.tags[position : position + count]
            doc_chains = tagged.chains[position : position + count]
            doc_spans = tagged.spans[position : position + count]
            position += count
            entities = [
                entity
                for sentence, spans in zip(doc_sentences, doc_spans, strict=True)
                for entity in self.entities(text, sentence, spans)
            ]
            best = [self.best_paths(chain, nbest) for chain in doc_chains] if nbest > 0 else None
            unsure = round(doubt(doc_tags, doc_chains, self.model.predictor.scheme), 6)
            docs.append(Doc(text, doc_sentences, doc_tags, entities, best, unsure))
        return docs

    @staticmethod
    def entities(text: str, sentence: list[Token], spans: list[ScoredSpan]) -> list[Entity]:
        """The entities of one tagged sentence with their character offsets and span probabilities."""
        found = []
        for span in spans:
            start, end = sentence[span.first].start, sentence[span.last].end
            found.append(Entity(text[start:end], span.label, start, end, round(span.score, 6)))
        return found

    def best_paths(self, chain: Chain, k: int) -> list[tuple[list[str], float]]:
        """The k most probable tag sequences of a sentence, as tags, with their probabilities."""
        labels, to_bio = self.model.labels, self.to_bio
        return [([labels[to_bio[i]] for i in path], round(p, 6)) for path, p in chain.best_paths(k)]


COMMON_WORDS = 5000


def common_words(vocabulary: Vocabulary) -> list[str]:
    """The vocabulary's most frequent words (a trained vocabulary lists them first)."""
    return [word for word in itertools.islice(vocabulary.token2id, COMMON_WORDS + 2) if word not in SPECIAL]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_worker_pipeline: Pipeline | None = None


def open_in_worker(
    opener: Callable[..., Model], args: tuple, max_tokens: int, words: list[str], threads: int
) -> None:
    """A worker process's own pipeline of the model, on `threads` threads."""
    global _worker_pipeline
    _worker_pipeline = Pipeline(opener(*args, threads=threads), TextSplitter(max_tokens, words))


def worker_pipeline() -> Pipeline:
    """This worker process's pipeline, opened by `open_in_worker`."""
    if _worker_pipeline is None:
        raise RuntimeError("no pipeline was opened in this process")
    return _worker_pipeline


def process_in_worker(job: tuple[list[TextInput], int, MinScore | None]) -> list[Doc]:
    """The Docs of one chunk of texts, in a worker process."""
    texts, nbest, min_score = job
    return worker_pipeline().process(texts, nbest, min_score)
