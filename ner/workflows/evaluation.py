"""Scoring a model on labelled data: entity precision, recall and F1 (per type), and how far its entity
scores can be trusted (calibration error, Brier score, precision and recall at thresholds, suggested
thresholds, a reliability diagram), on the text as written, lower-cased or upper-cased."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from ner.data_processing.annotations import SPAN_FORMATS, AnnotatedText, read_annotations, span_format
from ner.data_processing.augmentation import recase, recase_tokens
from ner.data_processing.readers import read_file, report_reading
from ner.inference.opening import open_model
from ner.nn.tags.scoring import ScoredSpan
from ner.runtime.model import Model
from ner.utils.console import console
from ner.utils.errors import DataFormatError
from ner.utils.reliability import Scored, at_thresholds, calibration, suggest_thresholds
from ner.utils.spans import tag_spans


@dataclass(frozen=True)
class Scoring:
    """What `ner evaluate` reports besides F1: a reliability diagram to draw, thresholds to suggest
    (maximising F1, or reaching `target_precision`)."""

    plot: str | Path | None = None
    suggest: bool = False
    target_precision: float | None = None


def judged(spans: Sequence[Sequence[ScoredSpan]], gold_tags: Sequence[Sequence[str]]) -> list[Scored]:
    """Each predicted entity's type and score, and whether a gold entity has exactly its span and type."""
    found = []
    for sentence_spans, tags in zip(spans, gold_tags, strict=True):
        gold = set(tag_spans(tags))
        found.extend(Scored(s.label, s.score, (s.label, s.first, s.last) in gold) for s in sentence_spans)
    return found


def evaluate_file(
    run_dir: str | Path,
    input_path: str | Path,
    fmt: str = "auto",
    casing: str = "as-is",
    scoring: Scoring | None = None,
    **options: object,
) -> dict:
    """Metrics of a model's predictions on a labelled file (its text in `casing`), printed with a
    per-type table and the trustworthiness of its scores; `options` go to `open_model`."""
    from ner.utils.metrics import entity_scores, sequence_metrics  # scikit-learn: only when scoring

    scoring = scoring or Scoring()
    span_fmt = fmt if fmt in SPAN_FORMATS else span_format(input_path) if fmt == "auto" else None
    if span_fmt is not None:
        return evaluate_spans(open_model(run_dir, **options), input_path, span_fmt, casing, scoring)
    data = read_file(input_path, fmt)
    if not data.labelled:
        raise DataFormatError(str(input_path), None, "carries no tags to evaluate against")
    report_reading(data)
    model = open_model(run_dir, **options)
    label2id = {label: i for i, label in model.id2label.items()}
    unknown = sorted({t for s in data.sentences for t in s.tags} - set(label2id))
    if unknown:
        raise DataFormatError(str(input_path), None, f"tags {unknown} are not in the model's label set")
    tagged = model.predictor.predict(
        [recase_tokens(s.tokens, casing) for s in data.sentences],
        [s.document for s in data.sentences],
        scores=True,
    )
    gold_tags = [s.tags for s in data.sentences]
    gold = [[label2id[t] for t in tags] for tags in gold_tags]
    pred = [[label2id[t] for t in tags] for tags in tagged.tags]
    metrics = sequence_metrics(gold, pred, model.id2label)
    per_type = entity_scores(gold, pred, model.id2label)
    gold_counts = Counter(label for tags in gold_tags for label, _, _ in tag_spans(tags))
    title = f"metrics ({casing})" if casing != "as-is" else "metrics"
    console.print(metrics_table(metrics, title), per_type_table(per_type))
    result = {"casing": casing, "metrics": metrics, "per_type": per_type}
    return result | trust(judged(tagged.spans, gold_tags), gold_counts, model, scoring)


def evaluate_spans(model: Model, input_path: str | Path, fmt: str, casing: str, scoring: Scoring) -> dict:
    """Exact character-span precision, recall and F1 (micro and per type) of a model's entities on the
    texts of a span-annotated file (in `casing`), printed; each text is tagged as one document from raw
    text."""
    from ner.runtime.pipeline import Pipeline, chunked
    from ner.utils.metrics import character_span_scores

    pipeline = Pipeline(model)
    gold, pred, entities = [], [], []
    for chunk in chunked(read_annotations(input_path, fmt), 64):
        truths = [gold_spans(doc) for doc in chunk]
        for doc, truth in zip(pipeline.process([recase(d.text, casing) for d in chunk]), truths, strict=True):
            pred.append({(e.start, e.end, e.label) for e in doc.entities})
            entities.extend(
                Scored(e.label, e.score, (e.start, e.end, e.label) in truth) for e in doc.entities
            )
        gold.extend(truths)
    metrics, per_type = character_span_scores(gold, pred)
    console.print(metrics_table(metrics, "exact character spans"), per_type_table(per_type))
    gold_counts = Counter(label for spans in gold for *_, label in spans)
    result = {"casing": casing, "metrics": metrics, "per_type": per_type}
    return result | trust(entities, gold_counts, model, scoring)


def gold_spans(doc: AnnotatedText) -> set[tuple[int, int, str]]:
    """An annotated text's (start, end, type) spans, each checked to lie inside the text."""
    for span in doc.spans:
        if not 0 <= span.start < span.end <= len(doc.text):
            where = span.line if span.line is not None else doc.line
            raise DataFormatError(doc.source, where, f"span {span.start}-{span.end} lies outside the text")
    return {(s.start, s.end, s.label) for s in doc.spans}


def trust(entities: list[Scored], gold_counts: Counter, model: Model, scoring: Scoring) -> dict:
    """The calibration of the entities' scores and their precision and recall at thresholds, printed (and
    suggested thresholds, and a reliability diagram, if asked)."""
    result = {
        "calibration": calibration(entities),
        "temperature": model.predictor.temperature,
        "thresholds": at_thresholds(entities, gold_counts),
    }
    console.print(calibration_table(result["calibration"], model.predictor.temperature))
    console.print(thresholds_table(result["thresholds"]))
    if scoring.suggest:
        result["suggested_thresholds"] = suggest_thresholds(entities, gold_counts, scoring.target_precision)
        console.print(suggestion_line(result["suggested_thresholds"], scoring.target_precision))
    if scoring.plot is not None:
        from ner.utils.visualize import plot_reliability

        plot_reliability({model.name: result["calibration"]}, scoring.plot)
        console.print(f"reliability diagram -> {scoring.plot}")
    return result


def metrics_table(metrics: dict[str, float], title: str = "metrics") -> Table:
    """A two-column table of metric values."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}")
    return table


def per_type_table(per_type: dict[str, dict[str, float]]) -> Table:
    """Precision, recall, F1 and support of each entity type."""
    table = Table(title="per entity type (exact spans)")
    for column in ("type", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for etype, s in per_type.items():
        table.add_row(
            etype, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"])
        )
    return table


def calibration_table(found: dict, temperature: float) -> Table:
    """Expected calibration error, Brier score and each score bin's accuracy."""
    table = Table(
        title=f"entity scores (temperature {temperature:.3f}): ECE {found['ece']:.4f}, "
        f"Brier {found['brier']:.4f}, {found['entities']} entities"
    )
    for column in ("score", "entities", "mean score", "right"):
        table.add_column(column, justify="right")
    for row in found["bins"]:
        if row["count"]:
            table.add_row(
                f"{row['low']:.1f}-{row['high']:.1f}",
                str(row["count"]),
                f"{row['mean_score']:.3f}",
                f"{row['accuracy']:.3f}",
            )
    return table


def thresholds_table(thresholds: dict[str, list[dict]]) -> Table:
    """Precision / recall of each type's entities kept at each threshold."""
    table = Table(title="precision / recall of the entities scored at least")
    table.add_column("type")
    levels = [row["threshold"] for row in next(iter(thresholds.values()), [])]
    for level in levels:
        table.add_column(f"{level:g}", justify="right")
    for label, rows in thresholds.items():
        table.add_row(label, *(f"{r['precision']:.3f} / {r['recall']:.3f}" for r in rows))
    return table


def suggestion_line(suggested: dict[str, float | None], target_precision: float | None) -> str:
    """The suggested thresholds as a --min-score value, or why a type has none."""
    goal = f"reaching precision {target_precision:g}" if target_precision is not None else "maximising F1"
    usable = ",".join(f"{label}={value:g}" for label, value in suggested.items() if value is not None)
    missing = [label for label, value in suggested.items() if value is None]
    line = f"suggested thresholds ({goal}): --min-score {usable or '(none)'}"
    if missing:
        line += f"  (no threshold reaches it for {', '.join(missing)})"
    return line
