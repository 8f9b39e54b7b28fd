"""Raw text in, entities with character offsets and probabilities out: the Python API and the command."""

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ner
import ner.workflows.raw_text
from ner.cli import main
from ner.data_processing.text import TextSplitter
from tests.conftest import LEGACY_RUN

RUN = LEGACY_RUN


@pytest.fixture(scope="module")
def tagger():
    return ner.load(RUN)


def test_splitting_keeps_conll_conventions_and_offsets():
    text = 'Angela Merkel didn\'t visit Acme-Corp on 1996-08-22 (it won 2-1).  Then "Paris".'
    sentences = TextSplitter().split(text)
    tokens = [t.text for s in sentences for t in s]
    assert tokens[:4] == ["Angela", "Merkel", "did", "n't"] and "Acme-Corp" in tokens
    assert "1996-08-22" in tokens and "2-1" in tokens and tokens[-4:] == ['"', "Paris", '"', "."]
    assert len(sentences) == 2
    assert all(text[t.start : t.end] == t.text for s in sentences for t in s)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_entities_equal_to_their_slice_and_tokens_that_never_overlap(tagger, text):
    doc = tagger(text)
    assert doc.text == text
    ends = [0]
    for token in doc.tokens:
        assert token.start >= ends[-1] and text[token.start : token.end] == token.text and token.text.strip()
        ends.append(token.end)
    for entity in doc.entities:
        assert text[entity.start : entity.end] == entity.text and 0.0 <= entity.score <= 1.0


def test_empty_and_blank_text_give_no_entities(tagger):
    for text in ("", "   \n\t "):
        doc = tagger(text)
        assert doc.sentences == [] and doc.entities == []


def test_pipe_streams_in_input_order_with_bounded_memory(tagger):
    texts = (f"Acme Corp hires Anna Smith number {i}." for i in itertools.count())
    docs = list(itertools.islice(tagger.pipe(texts, batch_size=4), 10))  # an endless input, consumed lazily
    assert [d.text for d in docs] == [f"Acme Corp hires Anna Smith number {i}." for i in range(10)]
    alone = tagger("Acme Corp hires Anna Smith number 3.")
    assert alone.entities and docs[3].entities == alone.entities


def test_pretokenized_input_is_one_sentence(tagger):
    doc = tagger(["Anna", "Smith", "visits", "ROME"])
    assert doc.text == "Anna Smith visits ROME" and [t.text for t in doc.tokens] == [
        "Anna",
        "Smith",
        "visits",
        "ROME",
    ]
    assert doc.entities and all(doc.text[e.start : e.end] == e.text for e in doc.entities)


def test_nbest_gives_the_k_most_probable_sequences_best_first(tagger):
    doc = tagger("Anna visits Rome. ROME wins.", nbest=3)
    assert len(doc.nbest) == len(doc.sentences)
    for sentence, paths in zip(doc.sentences, doc.nbest, strict=True):
        probabilities = [p for _, p in paths]
        assert len(paths) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) <= 1.0 + 1e-6
        assert all(len(tags) == len(sentence) for tags, _ in paths)
    assert tagger("Anna visits Rome.").nbest is None


def test_line_breaks_end_sentences():
    text = "SOCCER - JAPAN WIN\nAL-AIN , United Arab Emirates 1996-12-06\n\nJapan began. It won"
    sentences = [[t.text for t in s] for s in TextSplitter().split(text)]
    assert sentences == [
        ["SOCCER", "-", "JAPAN", "WIN"],
        ["AL-AIN", ",", "United", "Arab", "Emirates", "1996-12-06"],
        ["Japan", "began", "."],
        ["It", "won"],
    ]


def test_long_documents_are_cut_into_sentences_of_bounded_length():
    splitter = TextSplitter(max_tokens=5)
    sentences = splitter.split(" ".join(["word"] * 23))
    assert [len(s) for s in sentences] == [5, 5, 5, 5, 3]


@pytest.mark.parametrize("suffix", [".jsonl", ".conll", ".html"])
def test_predict_tags_raw_text_files(tmp_path, suffix):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "Anna visits Rome."}\n\n{"id": "b", "text": "ROME <wins> & more"}\n')
    output = tmp_path / f"out{suffix}"
    assert main(["predict", "--experiment", str(RUN), "--input", str(source), "--output", str(output)]) == 0
    written = output.read_text()
    if suffix == ".jsonl":
        records = [json.loads(line) for line in written.splitlines()]
        assert [r["id"] for r in records] == [1, "b"]
        for record in records:
            assert all(record["text"][e["start"] : e["end"]] == e["text"] for e in record["entities"])
    elif suffix == ".conll":
        assert written.count("-DOCSTART-") == 2 and "Anna\t" in written
    else:
        assert written.startswith("<!DOCTYPE html>") and '<mark class="entity"' in written
        assert "&lt;wins&gt; &amp; more" in written and "<wins>" not in written


def test_a_bad_jsonl_line_is_named_and_nothing_is_written(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "fine"}\n{"id": 3}\n')
    output = tmp_path / "out.jsonl"
    with pytest.raises(Exception, match=r"in.jsonl:2: expected a JSON object with a \"text\" string"):
        ner.workflows.raw_text.predict_raw_file(RUN, source, output)
    assert not output.exists()


def test_two_workers_write_what_one_process_writes(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": i, "text": f"Anna number {i} visits Rome. ROME wins."}) for i in range(150)]
    source.write_text("\n".join(lines) + "\n")
    outputs = {}
    for workers in ("1", "2"):
        outputs[workers] = tmp_path / f"out{workers}.jsonl"
        argv = [
            "predict",
            "--experiment",
            str(RUN),
            "--input",
            str(source),
            "--output",
            str(outputs[workers]),
        ]
        assert main([*argv, "--workers", workers, "--nbest", "2"]) == 0
    assert outputs["1"].read_text() == outputs["2"].read_text()
    assert [json.loads(line)["id"] for line in outputs["2"].read_text().splitlines()] == list(range(150))


def test_a_bad_line_read_while_workers_tag_stops_with_its_place_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"Anna visits Rome {i}."}) for i in range(300)]
    lines[250] = '{"id": 3}'
    source.write_text("\n".join(lines) + "\n")
    output = tmp_path / "out.jsonl"
    argv = ["predict", "--experiment", str(RUN), "--input", str(source), "--output", str(output)]
    assert main([*argv, "--workers", "2"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .endswith('in.jsonl:251: expected a JSON object with a "text" string')
    )
    assert not output.exists() and list(tmp_path.iterdir()) == [source]


@pytest.mark.parametrize(
    "workers, message", [("0", "--workers takes a number"), ("x", "--workers takes a number")]
)
def test_a_wrong_number_of_workers_is_named(tmp_path, capsys, workers, message):
    source = tmp_path / "in.txt"
    source.write_text("Anna visits Rome.\n")
    argv = [
        "predict",
        "--experiment",
        str(RUN),
        "--input",
        str(source),
        "--output",
        str(tmp_path / "o.jsonl"),
    ]
    assert main([*argv, "--workers", workers]) == 2
    assert message in capsys.readouterr().err
