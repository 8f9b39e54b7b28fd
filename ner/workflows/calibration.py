"""Fitting a model's calibration on a labelled split and keeping it in the model's folder: after
training, and by `ner calibrate` for a run trained before calibration existed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ner.data_processing.dataset import as_examples, load_dataset
from ner.inference.opening import open_model
from ner.nn.tags.temperature import Calibration, fit_temperature, rescaled, span_scores
from ner.runtime.folder import CALIBRATION_FILE
from ner.runtime.model import Model
from ner.utils.console import log
from ner.utils.errors import DataFormatError
from ner.utils.reliability import Scored, calibration
from ner.workflows.evaluation import judged


def fit_calibration(
    model: Model,
    sentences: Sequence[Sequence[str]],
    gold_tags: Sequence[Sequence[str]],
    documents: Sequence[int | None],
    fitted_on: str,
) -> Calibration:
    """The temperature that calibrates the model's span scores on labelled sentences, with the scores'
    calibration there before and after; the model's predictor takes it."""
    predictor = model.predictor
    predictor.temperature = 1.0
    tagged = predictor.predict(sentences, documents, scores=True)
    before = judged(tagged.spans, gold_tags)
    outcomes = [entity.correct for entity in before]
    temperature = fit_temperature(tagged.chains, tagged.spans, outcomes, predictor.scheme)
    scores = span_scores(rescaled(tagged.chains, temperature), tagged.spans, predictor.scheme)
    after = [Scored(e.label, float(score), e.correct) for e, score in zip(before, scores, strict=True)]
    predictor.temperature = temperature
    return Calibration(temperature, fitted_on, calibration(before), calibration(after))


def calibrate_split(model: Model, data: object, fitted_on: str) -> Calibration:
    """Fit the model's calibration on a labelled dataset split, save it in the model's folder and say so."""
    column = model.config.tokenizer.text_colname
    examples = as_examples(data, [column, "NER", "document"])
    found = fit_calibration(
        model,
        [e[column] for e in examples],
        [e["NER"] for e in examples],
        [e.get("document") for e in examples],
        fitted_on,
    )
    path = found.save(model.folder / CALIBRATION_FILE)
    if found.after["accuracy"] in (None, 0.0, 1.0):
        log.print(
            f"calibration: on {fitted_on} every entity is right, or every one wrong, or none found: temperature left at 1"
        )
    log.print(
        f"calibration: temperature {found.temperature:.3f} on {fitted_on} ({found.after['entities']} entities),"
        f" ECE {found.before['ece']:.4f} -> {found.after['ece']:.4f},"
        f" Brier {found.before['brier']:.4f} -> {found.after['brier']:.4f}  ->  {path}"
    )
    return found


def calibrate_model(source: str | Path, dataset_dir: str | Path, split: str = "val") -> Calibration:
    """Fit the calibration of a run or an export on a saved dataset's split (its text as written)."""
    dataset = load_dataset(dataset_dir)
    if split not in dataset or "NER" not in dataset[split].column_names:
        raise DataFormatError(str(dataset_dir), None, f"has no labelled {split} split to calibrate on")
    return calibrate_split(open_model(source), dataset[split], f"{Path(dataset_dir).name}/{split}")
