"""Character spans mapped to BIO tags on the tokens of the splitter that raw-text prediction uses.
A span that does not fit the tokens is an error naming where it was read, unless a policy is chosen:
`expand` to the tokens it touches, `contract` to the tokens it covers whole, or `skip` it; every
decision is counted per entity type."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ner.data_processing.annotations import AnnotatedText, Span, read_annotations
from ner.data_processing.readers import ReadResult, Sentence, finish
from ner.data_processing.text import TextSplitter, Token
from ner.utils.errors import DataFormatError

POLICIES = ("error", "expand", "contract", "skip")


@dataclass
class AlignmentReport:
    """What alignment did, per entity type: spans kept as annotated, expanded, contracted, skipped."""

    kept: Counter = field(default_factory=Counter)
    expanded: Counter = field(default_factory=Counter)
    contracted: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def add(self, other: AlignmentReport) -> None:
        """Count another report's decisions in this one."""
        for counter, more in zip(
            (self.kept, self.expanded, self.contracted, self.skipped),
            (other.kept, other.expanded, other.contracted, other.skipped),
            strict=True,
        ):
            counter.update(more)

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """(type, kept, expanded, contracted, skipped) for every type seen."""
        types = sorted(set(self.kept) | set(self.expanded) | set(self.contracted) | set(self.skipped))
        return [(t, self.kept[t], self.expanded[t], self.contracted[t], self.skipped[t]) for t in types]


def align(
    doc: AnnotatedText, sentences: list[list[Token]], policy: str, report: AlignmentReport
) -> list[list[str]]:
    """BIO tags of each sentence's tokens for the document's spans, under `policy`."""
    tokens = [token for sentence in sentences for token in sentence]
    tags = ["O"] * len(tokens)
    taken: list[tuple[int, int]] = []
    for span in sorted(doc.spans, key=lambda s: (s.start, -s.end)):
        first_last = token_range(doc, span, tokens, policy, report)
        if first_last is None:
            continue
        first, last = first_last
        if any(first <= b and a <= last for a, b in taken):
            misfit(doc, span, "overlaps another span", policy, report)
            continue
        taken.append((first, last))
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{span.label}"
    result, position = [], 0
    for sentence in sentences:
        result.append(tags[position : position + len(sentence)])
        position += len(sentence)
    return result


def token_range(
    doc: AnnotatedText, span: Span, tokens: list[Token], policy: str, report: AlignmentReport
) -> tuple[int, int] | None:
    """The first and last token a span tags, or None if it is skipped."""
    text = doc.text
    if not 0 <= span.start < span.end <= len(text):
        return misfit(doc, span, f"lies outside the text (0..{len(text)})", policy, report)
    if span.text is not None and text[span.start : span.end] != span.text:
        found = text[span.start : span.end]
        return misfit(doc, span, f"reads {found!r} in the text, not {span.text!r}", policy, report)
    covered = [i for i, t in enumerate(tokens) if t.start < span.end and span.start < t.end]
    inside = [i for i in covered if span.start <= tokens[i].start and tokens[i].end <= span.end]
    padded = text[span.start : span.end] != text[span.start : span.end].strip()
    if covered and inside == covered and not padded:
        report.kept[span.label] += 1
        return covered[0], covered[-1]
    problem = "starts or ends with whitespace" if padded else "starts or ends inside a token"
    if policy == "expand" and covered:
        report.expanded[span.label] += 1
        return covered[0], covered[-1]
    if policy == "contract" and inside:
        report.contracted[span.label] += 1
        return inside[0], inside[-1]
    if policy in ("expand", "contract"):
        policy = "skip"
    return misfit(doc, span, problem if covered else "covers no token", policy, report)


def misfit(doc: AnnotatedText, span: Span, problem: str, policy: str, report: AlignmentReport) -> None:
    """Skip a span that does not fit (counted), or refuse it naming where it was read."""
    if policy == "error":
        where = span.line if span.line is not None else doc.line
        raise DataFormatError(
            doc.source,
            where,
            f"span {span.start}-{span.end} {span.label} ({doc.text[span.start : span.end]!r}): {problem}; "
            "choose --misaligned expand, contract or skip to go on",
        )
    report.skipped[span.label] += 1
    return None


def read_spans(
    path: str | Path,
    fmt: str,
    policy: str = "error",
    splitter: TextSplitter | None = None,
    max_length: int | None = None,
) -> tuple[ReadResult, AlignmentReport]:
    """The sentences of a span-annotated file (or brat folder), split as raw text is for prediction and
    tagged from the spans; each text is one document."""
    splitter = splitter or TextSplitter()
    report = AlignmentReport()
    result = ReadResult(str(path))
    position = 0
    for number, doc in enumerate(read_annotations(path, fmt)):
        sentences = splitter.split(doc.text)
        for tokens, tags in zip(sentences, align(doc, sentences, policy, report), strict=True):
            index = [str(i) for i in range(position, position + len(tokens))]
            position += len(tokens)
            result.sentences.append(Sentence([t.text for t in tokens], tags, index, None, number))
    return finish(result, max_length), report
