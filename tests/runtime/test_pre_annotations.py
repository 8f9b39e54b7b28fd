"""Pre-annotations: `ner predict --output-format label-studio|doccano|spacy|brat` writes each tool's import
format with the model's entities (and scores where the tool keeps them), and each reads back through the
tools' export readers with the same spans, as an export would after a person accepted them."""

import json

import pytest

from ner.data_processing.annotations import read_annotations
from tests.conftest import LEGACY_RUN
from tests.helpers import ner

# The words of the fixture run's training sentence, with an emoji (offsets in code points) and CRLF.
TEXTS = [
    "Anna Smith lives in Rome 🇮🇹 near Acme Corp.\r\nThen Smith lives in Rome.",
    "Nothing to see here.",
    "Anna visits Rome near Acme Corp.",
]


@pytest.fixture(scope="module")
def predicted(tmp_path_factory):
    """The texts as JSONL input, and the entities `ner predict` finds in them."""
    folder = tmp_path_factory.mktemp("pre")
    source = folder / "texts.jsonl"
    source.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(TEXTS)))
    ner("predict", LEGACY_RUN, "--input", source, "--output", folder / "found.jsonl")
    found = [json.loads(line) for line in (folder / "found.jsonl").read_text().splitlines()]
    entities = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in found]
    assert sum(map(len, entities)) >= 2
    return source, entities, found


def write(fmt: str, source, folder):
    """`ner predict` in `fmt` into a file (or folder) of `folder`."""
    output = (
        folder / {"label-studio": "tasks.json", "brat": "brat", "doccano": "d.jsonl", "spacy": "s.jsonl"}[fmt]
    )
    ner("predict", LEGACY_RUN, "--input", source, "--output", output, "--output-format", fmt)
    return output


def spans_read_back(path, fmt: str) -> list[list[tuple[int, int, str]]]:
    return [[(s.start, s.end, s.label) for s in text.spans] for text in read_annotations(path, fmt)]


@pytest.mark.parametrize("fmt", ["doccano", "spacy", "brat"])
def test_each_format_reads_back_with_the_same_spans(predicted, tmp_path, fmt):
    source, entities, _ = predicted
    output = write(fmt, source, tmp_path)
    assert spans_read_back(output, fmt) == entities
    texts = [text.text for text in read_annotations(output, fmt)]
    assert texts == TEXTS


def test_label_studio_tasks_carry_scored_predictions_that_come_back_once_accepted(predicted, tmp_path):
    source, entities, found = predicted
    tasks = json.loads(write("label-studio", source, tmp_path).read_text())
    assert [task["data"] for task in tasks] == [{"text": t, "id": i} for i, t in enumerate(TEXTS)]
    for task, record in zip(tasks, found, strict=True):
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == LEGACY_RUN.name
        assert 0.0 <= prediction["score"] <= 1.0
        results = prediction["result"]
        assert [r["score"] for r in results] == [e["score"] for e in record["entities"]]
        assert all(
            r["from_name"] == "label" and r["to_name"] == "text" and r["type"] == "labels" for r in results
        )
        assert all(
            task["data"]["text"][r["value"]["start"] : r["value"]["end"]] == r["value"]["text"]
            for r in results
        )
    # Accepting a prediction in Label Studio makes it the annotation; its export then reads back.
    exported = [task | {"annotations": [{"result": task["predictions"][0]["result"]}]} for task in tasks]
    (tmp_path / "export.json").write_text(json.dumps(exported))
    assert spans_read_back(tmp_path / "export.json", "label-studio") == entities


def test_a_texts_score_is_the_same_in_every_tool_and_spans_name_their_tokens(predicted, tmp_path):
    source, _, _ = predicted
    tasks = json.loads(write("label-studio", source, tmp_path).read_text())
    lines = [json.loads(line) for line in write("spacy", source, tmp_path).read_text().splitlines()]
    assert [t["predictions"][0]["score"] for t in tasks] == [line["meta"]["score"] for line in lines]
    spans = lines[0]["spans"]
    tokens = lines[0]["tokens"]
    assert all(
        tokens[s["token_start"]]["start"] == s["start"] and tokens[s["token_end"]]["end"] == s["end"]
        for s in spans
    )


def test_brat_notes_hold_scores_and_a_second_run_replaces_the_folder(predicted, tmp_path):
    source, entities, found = predicted
    output = write("brat", source, tmp_path)
    (output / "stale.txt").write_text("from before")
    write("brat", source, tmp_path)
    assert sorted(p.name for p in output.iterdir()) == [
        f"doc-00000{i}.{s}" for i in (1, 2, 3) for s in ("ann", "txt")
    ]
    notes = [line for line in (output / "doc-000001.ann").read_text().splitlines() if line.startswith("#")]
    assert [float(line.rsplit(" ", 1)[1]) for line in notes] == [e["score"] for e in found[0]["entities"]]


def test_pre_annotations_are_made_from_raw_text_only(tmp_path):
    conll = tmp_path / "in.conll"
    conll.write_text("Paris\tO\n\n")
    result = ner(
        "predict",
        LEGACY_RUN,
        "--input",
        conll,
        "--output",
        tmp_path / "o.json",
        "--output-format",
        "label-studio",
        expect=2,
    )
    assert "raw text" in result.stderr and "Traceback" not in result.stderr
    result = ner(
        "predict",
        LEGACY_RUN,
        "--input",
        conll,
        "--output",
        tmp_path / "o.x",
        "--output-format",
        "parquet",
        expect=2,
    )
    assert "--ray" in result.stderr
