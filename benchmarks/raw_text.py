"""Entity F1 on raw text against the same model on the pre-tokenized sentences: CoNLL-2003 test's
documents are detokenized into paragraphs (gold entities kept as character offsets), tagged through
`ner.load(...).pipe`, and scored by exact character spans; the pre-tokenized sentences are tagged
through the run's Predictor and scored by the same character spans.

    python -m benchmarks.raw_text RUN_DIR [--test ../shared/data/conll2003-en/test.conll]
"""

from __future__ import annotations

import argparse
import time

import ner
from ner.data_processing.readers import read_conll
from ner.runtime.pipeline import Pipeline
from ner.utils.spans import tag_spans

NO_SPACE_BEFORE = {
    ",",
    ".",
    ";",
    ":",
    "!",
    "?",
    ")",
    "]",
    "}",
    "%",
    "'s",
    "n't",
    "'",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
}
NO_SPACE_AFTER = {"(", "[", "{", "$"}
FINAL = {".", "!", "?", '"'}


def needs_space(previous: str | None, token: str, quote_open: bool) -> bool:
    """Whether `token` is written with a space after `previous` (None at the start)."""
    if previous is None or token in NO_SPACE_BEFORE or previous in NO_SPACE_AFTER:
        return False
    return not (quote_open and (token == '"' or previous == '"'))


def detokenize(sentences: list[list[str]], lines: bool = False) -> tuple[str, list[list[tuple[int, int]]]]:
    """A paragraph from tokenized sentences, and each token's character offsets in it; with `lines`, a
    sentence that ends without . ! ? (a headline, a dateline, a table row) ends its line, as it did in
    the article."""
    text, offsets, previous, quote_open = "", [], None, False
    for tokens in sentences:
        sentence_offsets = []
        if lines and previous is not None and previous not in FINAL:
            text += "\n"
            previous = None
        for token in tokens:
            if needs_space(previous, token, quote_open):
                text += " "
            if token == '"':
                quote_open = not quote_open
            sentence_offsets.append((len(text), len(text) + len(token)))
            text += token
            previous = token
        offsets.append(sentence_offsets)
    return text, offsets


def char_entities(tags: list[list[str]], offsets: list[list[tuple[int, int]]]) -> set[tuple[int, int, str]]:
    """Entities of tagged sentences as (start, end, type) character spans."""
    found = set()
    for sentence_tags, sentence_offsets in zip(tags, offsets, strict=True):
        for label, first, last in tag_spans(sentence_tags):
            found.add((sentence_offsets[first][0], sentence_offsets[last][1], label))
    return found


def micro_f1(gold: list[set], pred: list[set]) -> float:
    """Exact-span micro F1 over documents."""
    hits = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    predicted, expected = sum(map(len, pred)), sum(map(len, gold))
    return 2 * hits / (predicted + expected) if predicted + expected else 0.0


def score_layout(pipeline: Pipeline, documents: list[list], lines: bool) -> dict[str, float]:
    """Raw-text and pre-tokenized micro F1 (and the raw path's seconds) with the documents laid out as
    one paragraph each, or with line breaks after unpunctuated sentences."""
    texts, offsets, gold = [], [], []
    for sentences in documents:
        text, sentence_offsets = detokenize([s.tokens for s in sentences], lines)
        texts.append(text)
        offsets.append(sentence_offsets)
        gold.append(char_entities([s.tags for s in sentences], sentence_offsets))
    started = time.perf_counter()
    raw = [{(e.start, e.end, e.label) for e in doc.entities} for doc in pipeline.pipe(texts, batch_size=16)]
    seconds = time.perf_counter() - started
    sentences = [s for group in documents for s in group]
    numbers = [i for i, group in enumerate(documents) for _ in group]
    tags = pipeline.model.predictor.tag([s.tokens for s in sentences], numbers)
    pretokenized, position = [], 0
    for sentence_offsets in offsets:
        count = len(sentence_offsets)
        pretokenized.append(char_entities(tags[position : position + count], sentence_offsets))
        position += count
    return {"raw": micro_f1(gold, raw), "tokens": micro_f1(gold, pretokenized), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--test", default="../shared/data/conll2003-en/test.conll")
    args = parser.parse_args()
    data = read_conll(args.test)
    grouped: dict[int, list] = {}
    for sentence in data.sentences:
        grouped.setdefault(sentence.document or 0, []).append(sentence)
    documents = list(grouped.values())
    pipeline = ner.load(args.run_dir)
    print(
        f"{len(documents)} documents, {len(data.sentences):,} sentences; raw text split by {pipeline.tokenizer_name}"
    )
    for lines, layout in (
        (False, "one paragraph a document"),
        (True, "line breaks after unpunctuated sentences"),
    ):
        result = score_layout(pipeline, documents, lines)
        print(
            f"{layout}: raw text micro F1 {result['raw']:.4f} on character offsets ({result['seconds']:.1f} s), "
            f"pre-tokenized {result['tokens']:.4f}, difference {result['raw'] - result['tokens']:+.4f}"
        )


if __name__ == "__main__":
    main()
