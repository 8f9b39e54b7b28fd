"""Span-annotated input: the same documents exported by doccano, Label Studio, spaCy/Prodigy, brat and
`ner predict` read to identical sentences and tags; spans that do not fit the tokens are refused with
where they were read, or expanded, contracted or skipped, and counted."""

import json
import shutil

import pytest

from ner.data_processing.alignment import read_spans
from ner.data_processing.annotations import span_format
from ner.data_processing.dataset import load_dataset
from ner.data_processing.readers import read_conll
from ner.data_processing.text import TextSplitter
from ner.utils.errors import DataFormatError
from ner.utils.spans import tag_spans
from tests.conftest import CONLL, LEGACY_RUN
from tests.helpers import conll_slice, ner, train_glove

RUN = LEGACY_RUN

# Emoji before entities (offsets in code points), CRLF line ends, a span ending inside a word
# ("Edward D" of "Edward D. Farr") and two overlapping spans.
DOCS = [
    ("I ❤️ 🍕 in Napoli with Maria Rossi.\r\nThen Roma.", [(10, 16, "LOC"), (22, 33, "PER"), (41, 45, "LOC")]),
    (
        "Edward D. Farr works for Acme Corp and IBM.",
        [(0, 8, "PER"), (25, 34, "ORG"), (30, 34, "ORG"), (39, 42, "ORG")],
    ),
    ("Nothing to see here.", []),
]


def check_offsets():
    assert [DOCS[0][0][s:e] for s, e, _ in DOCS[0][1]] == ["Napoli", "Maria Rossi", "Roma"]
    assert [DOCS[1][0][s:e] for s, e, _ in DOCS[1][1]] == ["Edward D", "Acme Corp", "Corp", "IBM"]


def utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


def write_all(folder, docs=DOCS, old_label_studio=False) -> dict:
    """The documents in each of the five formats; the paths by format name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    lines = [json.dumps({"text": t, "label": [[s, e, lab] for s, e, lab in spans]}) for t, spans in docs]
    paths["doccano"] = folder / "doccano.jsonl"
    paths["doccano"].write_text("\n".join(lines) + "\n")
    lines = [
        json.dumps({"text": t, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]})
        for t, spans in docs
    ]
    paths["spacy"] = folder / "spacy.jsonl"
    paths["spacy"].write_text("\n".join(lines) + "\n")
    lines = [
        json.dumps(
            {
                "id": i,
                "text": t,
                "entities": [
                    {"text": t[s:e], "label": lab, "start": s, "end": e, "score": 0.9} for s, e, lab in spans
                ],
            }
        )
        for i, (t, spans) in enumerate(docs)
    ]
    paths["ner-jsonl"] = folder / "predicted.jsonl"
    paths["ner-jsonl"].write_text("\n".join(lines) + "\n")
    move = utf16 if old_label_studio else (lambda text, offset: offset)
    tasks = [
        {
            "id": 100 + i,
            "data": {"text": t},
            "annotations": [
                {
                    "result": [
                        {
                            "type": "labels",
                            "value": {
                                "start": move(t, s),
                                "end": move(t, e),
                                "text": t[s:e],
                                "labels": [lab],
                            },
                        }
                        for s, e, lab in spans
                    ]
                }
            ],
        }
        for i, (t, spans) in enumerate(docs)
    ]
    paths["label-studio"] = folder / "label-studio.json"
    paths["label-studio"].write_text(json.dumps(tasks))
    brat = folder / "brat"
    brat.mkdir()
    for i, (t, spans) in enumerate(docs):
        with open(brat / f"doc{i}.txt", "w", encoding="utf-8", newline="") as handle:
            handle.write(t)
        (brat / f"doc{i}.ann").write_text(
            "".join(f"T{n}\t{lab} {s} {e}\t{t[s:e]}\n" for n, (s, e, lab) in enumerate(spans, 1))
        )
    paths["brat"] = brat
    return paths


def as_rows(result):
    return [(s.tokens, s.tags, s.document) for s in result.sentences]


def test_the_offsets_in_the_fixture_are_right():
    check_offsets()


def test_each_format_is_recognised_from_its_content(tmp_path):
    for fmt, path in write_all(tmp_path).items():
        assert span_format(path) == fmt


@pytest.mark.parametrize("policy", ["skip", "expand", "contract"])
def test_the_five_formats_give_identical_sentences_and_tags(tmp_path, policy):
    paths = write_all(tmp_path)
    results = {fmt: read_spans(path, fmt, policy) for fmt, path in paths.items()}
    rows = {fmt: as_rows(result) for fmt, (result, _) in results.items()}
    first = rows["doccano"]
    assert all(r == first for r in rows.values())
    reports = {fmt: report.rows() for fmt, (_, report) in results.items()}
    assert all(r == reports["doccano"] for r in reports.values())
    assert first[0] == (
        ["I", "❤", "\ufe0f", "🍕", "in", "Napoli", "with", "Maria", "Rossi", "."],
        ["O", "O", "O", "O", "O", "B-LOC", "O", "B-PER", "I-PER", "O"],
        0,
    )
    assert first[1] == (["Then", "Roma", "."], ["O", "B-LOC", "O"], 0), "the CRLF ends a sentence"
    assert first[2][1][3:] == ["O", "O", "B-ORG", "I-ORG", "O", "B-ORG", "O"]


def test_old_label_studio_utf16_offsets_are_converted(tmp_path):
    current = as_rows(read_spans(write_all(tmp_path / "a")["label-studio"], "label-studio", "skip")[0])
    old = as_rows(
        read_spans(write_all(tmp_path / "b", old_label_studio=True)["label-studio"], "label-studio", "skip")[
            0
        ]
    )
    assert old == current


def test_a_span_ending_inside_a_word_is_an_error_naming_the_file_and_line(tmp_path):
    paths = write_all(tmp_path)
    with pytest.raises(DataFormatError) as err:
        read_spans(paths["doccano"], "doccano")
    assert err.value.line == 2 and "Edward D" in err.value.problem and "inside a token" in err.value.problem
    with pytest.raises(DataFormatError) as err:
        read_spans(paths["brat"], "brat")
    assert err.value.path.endswith("doc1.ann") and err.value.line == 1
    with pytest.raises(DataFormatError) as err:
        read_spans(paths["label-studio"], "label-studio")
    assert err.value.line == "task 101"


def test_policies_expand_contract_and_skip_the_misaligned_span_and_count_it(tmp_path):
    path = write_all(tmp_path)["spacy"]
    tagged = {}
    for policy in ("expand", "contract", "skip"):
        result, report = read_spans(path, "spacy", policy)
        edward = next(s for s in result.sentences if s.tokens[0] == "Edward")
        tagged[policy] = edward.tags
        counts = dict((row[0], row[1:]) for row in report.rows())
        assert counts["ORG"][3] == 1, "the overlapping ORG span is skipped under every policy"
    assert tagged["expand"][:3] == ["B-PER", "I-PER", "O"]
    assert tagged["contract"][:3] == ["B-PER", "O", "O"]
    assert tagged["skip"][:3] == ["O", "O", "O"]


@pytest.mark.e2e
def test_create_dataset_reads_annotated_texts_and_reports_the_alignment(tmp_path):
    paths = write_all(tmp_path / "exports")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split in ("train", "val"):
        (corpus / f"{split}.jsonl").write_text(paths["doccano"].read_text())
    result = ner("create-dataset", corpus, tmp_path / "refused", expect=2)
    assert "train.jsonl:2: span 0-8 PER ('Edward D')" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "refused").exists()
    result = ner("create-dataset", corpus, tmp_path / "dataset", "--misaligned", "contract")
    assert "contracted" in result.stdout
    dataset = load_dataset(tmp_path / "dataset")
    assert dataset["train"][0]["NER"][5] == "B-LOC" and dataset["train"][0]["document"] == 0


@pytest.mark.e2e
def test_a_corrected_prediction_goes_back_in_as_training_data(tmp_path):
    texts = ["Angela Merkel met Emmanuel Macron in Paris on Monday.", "Nothing happened in the city of Lyon."]
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(texts) + "\n")
    ner("predict", "--experiment", RUN, "--input", source, "--output", tmp_path / "predicted.jsonl")
    records = [json.loads(line) for line in (tmp_path / "predicted.jsonl").read_text().splitlines()]
    start = texts[1].index("Lyon")
    records[1]["entities"] = [
        e for e in records[1]["entities"] if e["end"] <= start or e["start"] >= start + 4
    ]
    records[1]["entities"].append(
        {"text": "Lyon", "label": "LOC", "start": start, "end": start + 4, "score": 1.0}
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split in ("train", "val"):
        (corpus / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    ner("create-dataset", corpus, tmp_path / "dataset")
    second = [row for row in load_dataset(tmp_path / "dataset")["train"] if row["document"] == 1][0]
    assert second["NER"][second["text"].index("Lyon")] == "B-LOC"


@pytest.mark.e2e
def test_evaluating_a_span_file_gives_the_figures_of_the_same_documents_in_conll(tmp_path):
    work = conll_slice(tmp_path, 60, 2)
    train_glove(work, "run", "--set", "train_and_eval.num_epochs=4")
    splitter = TextSplitter()
    sentences = []
    for sentence in read_conll(CONLL / "val.conll").sentences[:400]:
        split = splitter.split(" ".join(sentence.tokens))
        if len(split) == 1 and [t.text for t in split[0]] == sentence.tokens:
            sentences.append(sentence)
    assert len(sentences) > 150
    conll = "".join(
        "".join(f"{w}\t{t}\n" for w, t in zip(s.tokens, s.tags, strict=True)) + "\n" for s in sentences
    )
    (tmp_path / "gold.conll").write_text(conll)
    records = []
    for s in sentences:
        starts = [sum(len(w) + 1 for w in s.tokens[:i]) for i in range(len(s.tokens))]
        spans = [[starts[a], starts[b] + len(s.tokens[b]), label] for label, a, b in tag_spans(s.tags)]
        records.append(json.dumps({"text": " ".join(s.tokens), "label": spans}))
    (tmp_path / "gold.jsonl").write_text("\n".join(records) + "\n")
    figures = {}
    for name in ("gold.conll", "gold.jsonl"):
        ner(
            "evaluate",
            "--experiment",
            work / "run",
            "--input",
            tmp_path / name,
            "--no-document-consistency",
            "--json",
            tmp_path / f"{name}.json",
        )
        figures[name] = json.loads((tmp_path / f"{name}.json").read_text())["per_type"]
    assert figures["gold.jsonl"] == {
        t: v for t, v in figures["gold.conll"].items() if v["support"] or v["precision"]
    }
    assert sum(v["support"] for v in figures["gold.jsonl"].values()) > 100
    scores = json.loads((tmp_path / "gold.jsonl.json").read_text())["metrics"]
    assert scores["span_f1_micro"] > 0.3, "the model finds entities, so equal figures are not all zeros"


@pytest.mark.e2e
def test_create_dataset_gives_the_same_dataset_from_every_format(tmp_path):
    datasets = {}
    for fmt, path in write_all(tmp_path / "exports").items():
        corpus = tmp_path / f"corpus-{fmt}"
        corpus.mkdir()
        for split in ("train", "val"):
            target = corpus / (split if path.is_dir() else f"{split}{path.suffix}")
            if path.is_dir():
                shutil.copytree(path, target)
            else:
                target.write_bytes(path.read_bytes())
        ner("create-dataset", corpus, tmp_path / f"dataset-{fmt}", "--misaligned", "expand")
        datasets[fmt] = {
            split: load_dataset(tmp_path / f"dataset-{fmt}")[split].to_list() for split in ("train", "val")
        }
    assert all(d == datasets["doccano"] for d in datasets.values())
    assert datasets["doccano"]["train"][2]["NER"][:3] == ["B-PER", "I-PER", "O"]
