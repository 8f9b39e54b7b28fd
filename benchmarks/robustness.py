"""Entity F1 of runs on labelled files as written, lower-cased and upper-cased, and how far their entity
scores can be trusted before and after calibration (temperature 1 against the run's own): ECE on the
pre-tokenized sentences in each casing; for text as written also ECE, Brier score and the share right
among entities scored 0.9 or more on raw text (the sentences detokenized, a document or eight sentences
to a paragraph, tagged from the text and scored by exact character spans), with the reliability
diagram of each.

    python -m benchmarks.robustness RUN [RUN ...] --files ../shared/data/wikineural-en/val.conll \\
        ../shared/data/conll2003-en/test.conll [--plots docs/robustness]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.raw_text import char_entities, detokenize
from ner.data_processing.augmentation import CASINGS, recase, recase_tokens
from ner.data_processing.readers import Sentence, read_file
from ner.inference.run import open_run
from ner.runtime.pipeline import Pipeline
from ner.utils.metrics import sequence_metrics
from ner.utils.reliability import Scored, calibration
from ner.utils.visualize import plot_reliability
from ner.workflows.evaluation import judged

PARAGRAPH = 8


def documents(sentences: list[Sentence]) -> list[list[Sentence]]:
    """The sentences grouped by their -DOCSTART- document, or eight at a time where a file has none."""
    if sentences and sentences[0].document is not None:
        grouped: dict[int, list[Sentence]] = {}
        for sentence in sentences:
            grouped.setdefault(sentence.document, []).append(sentence)
        return list(grouped.values())
    return [sentences[i : i + PARAGRAPH] for i in range(0, len(sentences), PARAGRAPH)]


def token_figures(run, sentences: list[Sentence], casing: str) -> tuple[dict, list[Scored]]:
    """F1 of the run's tags of the sentences in `casing`, and its scored entities."""
    label2id = {label: i for i, label in enumerate(run.labels)}
    tagged = run.predictor.predict(
        [recase_tokens(s.tokens, casing) for s in sentences], [s.document for s in sentences], scores=True
    )
    gold = [[label2id[t] for t in s.tags] for s in sentences]
    pred = [[label2id[t] for t in tags] for tags in tagged.tags]
    metrics = sequence_metrics(gold, pred, run.id2label)
    return metrics, judged(tagged.spans, [s.tags for s in sentences])


def raw_entities(pipeline: Pipeline, groups: list[list[Sentence]], casing: str) -> list[Scored]:
    """The scored entities of the documents as raw text in `casing`, right when a gold entity has
    exactly their character span and type."""
    texts, gold = [], []
    for group in groups:
        text, offsets = detokenize([s.tokens for s in group])
        texts.append(recase(text, casing))
        gold.append(char_entities([s.tags for s in group], offsets))
    found = []
    for doc, truth in zip(pipeline.pipe(texts, batch_size=16), gold, strict=True):
        found.extend(Scored(e.label, e.score, (e.start, e.end, e.label) in truth) for e in doc.entities)
    return found


def summary(entities: list[Scored]) -> dict:
    """ECE, Brier score and the share right among entities scored 0.9 or more."""
    found = calibration(entities)
    return {k: found[k] for k in ("entities", "ece", "brier", "accuracy_at_0.9", "share_at_0.9")}


def measure(run_dir: str, files: list[str], plots: Path | None) -> list[dict]:
    """One row per file and casing: F1, and the calibration of the entity scores before (temperature 1)
    and after on the tokens; for text as written, also on raw text, with its reliability diagram."""
    run = open_run(run_dir, precision="float32")
    pipeline = Pipeline(run)
    fitted = run.predictor.temperature
    rows = []
    for path in files:
        sentences = read_file(path).sentences
        for casing in CASINGS:
            row = {"run": Path(run_dir).name, "file": path, "casing": casing, "temperature": fitted}
            diagrams = {}
            for name, temperature in (("before", 1.0), ("after", fitted)):
                run.predictor.temperature = temperature
                metrics, tokens = token_figures(run, sentences, casing)
                row |= {"entity_f1": metrics["entity_f1"], "entity_f1_micro": metrics["entity_f1_micro"]}
                row[f"tokens_{name}"] = summary(tokens)
                if casing == "as-is":
                    raw = raw_entities(pipeline, documents(sentences), casing)
                    row[f"raw_{name}"] = summary(raw)
                    diagrams[f"temperature {temperature:.2f}"] = calibration(raw)
            if plots is not None and diagrams:
                plots.mkdir(parents=True, exist_ok=True)
                target = plots / f"{Path(run_dir).name}-{Path(path).parent.name}-{Path(path).stem}.png"
                plot_reliability(diagrams, target)
                row["plot"] = str(target)
            rows.append(row)
            print(json.dumps(row), flush=True)
    run.predictor.temperature = fitted
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| run | file | casing | weighted F1 | micro F1 | token ECE before -> after "
        "| raw-text ECE before -> after | raw-text Brier before -> after | raw-text right at >= 0.9 after (share) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        tokens = f"{r['tokens_before']['ece']:.3f} -> {r['tokens_after']['ece']:.3f}"
        raw = brier = confident = "-"
        if "raw_after" in r:
            before, after = r["raw_before"], r["raw_after"]
            raw = f"{before['ece']:.3f} -> {after['ece']:.3f}"
            brier = f"{before['brier']:.3f} -> {after['brier']:.3f}"
            confident = f"{after['accuracy_at_0.9'] or 0:.3f} ({after['share_at_0.9']:.2f})"
        lines.append(
            f"| {r['run']} | {Path(r['file']).parent.name}/{Path(r['file']).name} | {r['casing']} "
            f"| {r['entity_f1']:.4f} | {r['entity_f1_micro']:.4f} | {tokens} | {raw} | {brier} | {confident} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--files", nargs="+", required=True, help="labelled CoNLL or JSON files")
    parser.add_argument("--plots", type=Path, help="folder for the reliability diagrams")
    args = parser.parse_args()
    rows = [row for run in args.runs for row in measure(run, args.files, args.plots)]
    print(table(rows))


if __name__ == "__main__":
    main()
