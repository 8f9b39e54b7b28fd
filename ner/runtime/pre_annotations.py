"""Pre-annotations: tagged texts in the annotation tools' own import formats, Label Studio tasks with
predictions, doccano JSONL, spaCy/Prodigy JSONL and brat standoff, each with the model's scores where
the tool keeps them. `ner.data_processing.annotations` reads each back (after a person's corrections)
with the same spans."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ner.runtime.doc import Doc, Entity


@dataclass(frozen=True)
class LabelStudioNames:
    """Where a Label Studio labeling config wants entities: the `<Labels>` tag's name (`from_name`), the
    `<Text>` tag's name (`to_name`), the task data field holding the text, and the label each of the
    model's types is called there (types not in `labels` keep their own name)."""

    from_name: str = "label"
    to_name: str = "text"
    text_field: str = "text"
    labels: dict[str, str] = field(default_factory=dict)


def confidence(doc: Doc) -> float:
    """The model's confidence in a text's tags, 1 - its doubt: sorting by it puts the doubtful first."""
    return round(1.0 - doc.doubt, 6)


def label_studio_results(doc: Doc, names: LabelStudioNames) -> list[dict]:
    """A Doc's entities as Label Studio's `labels` results, each with its score."""
    return [
        {
            "id": f"ner-{position}",
            "from_name": names.from_name,
            "to_name": names.to_name,
            "type": "labels",
            "value": {
                "start": entity.start,
                "end": entity.end,
                "text": entity.text,
                "labels": [names.labels.get(entity.label, entity.label)],
            },
            "score": entity.score,
        }
        for position, entity in enumerate(doc.entities)
    ]


def label_studio_prediction(doc: Doc, names: LabelStudioNames, model_version: str) -> dict:
    """One task's prediction: its results, the text's score (the confidence) and the model's version."""
    return {
        "result": label_studio_results(doc, names),
        "score": confidence(doc),
        "model_version": model_version,
    }


def label_studio_task(record: dict, doc: Doc, model_version: str) -> str:
    """A task to import into Label Studio: the input record as its data, the model's prediction."""
    names = LabelStudioNames()
    task = {"data": record, "predictions": [label_studio_prediction(doc, names, model_version)]}
    return json.dumps(task, ensure_ascii=False)


def doccano_line(record: dict, doc: Doc, model_version: str) -> str:
    """A doccano JSONL line: the record with `label`, [start, end, type] per entity (doccano keeps no
    scores)."""
    spans = [[e.start, e.end, e.label] for e in doc.entities]
    return json.dumps(record | {"label": spans}, ensure_ascii=False) + "\n"


def spacy_line(record: dict, doc: Doc, model_version: str) -> str:
    """A spaCy/Prodigy JSONL line: the record with its `tokens`, `spans` (with token positions and
    scores) and the text's score in `meta`, as Prodigy's manual and correcting recipes take them."""
    tokens = doc.tokens
    first = {token.start: i for i, token in enumerate(tokens)}
    last = {token.end: i for i, token in enumerate(tokens)}
    spans = [
        {
            "start": e.start,
            "end": e.end,
            "text": e.text,
            "label": e.label,
            "token_start": first[e.start],
            "token_end": last[e.end],
            "score": e.score,
        }
        for e in doc.entities
    ]
    words = [{"text": t.text, "start": t.start, "end": t.end, "id": i} for i, t in enumerate(tokens)]
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    extra = {"meta": meta | {"score": confidence(doc), "model_version": model_version}}
    return json.dumps(record | {"tokens": words, "spans": spans} | extra, ensure_ascii=False) + "\n"


def brat_annotations(record: dict, doc: Doc, model_version: str) -> str:
    """A brat .ann file: a T line per entity and an AnnotatorNotes line with its score."""
    lines = []
    for number, entity in enumerate(doc.entities, start=1):
        lines.append(f"T{number}\t{entity.label} {entity.start} {entity.end}\t{brat_text(entity)}\n")
        lines.append(f"#{number}\tAnnotatorNotes T{number}\tscore {entity.score}\n")
    return "".join(lines)


def brat_text(entity: Entity) -> str:
    """An entity's text on one line, as brat stores it (line breaks inside it become spaces)."""
    return " ".join(entity.text.split("\n"))
