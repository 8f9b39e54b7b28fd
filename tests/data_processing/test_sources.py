"""Several corpora in one dataset: types renamed, types only one source has refused unless kept, splits
combined with their source and documents kept apart, and the sources recorded."""

import datasets
import pytest

from ner.data_processing.dataset import load_dataset
from ner.data_processing.sources import (
    SOURCE_COLUMN,
    check_shared_types,
    combine,
    mapped_tags,
    read_sources,
)
from ner.utils.errors import NerError
from ner.utils.spans import parse_type_map
from tests.helpers import ner


def test_a_type_map_renames_and_drops_types():
    mapping = parse_type_map(["PERSON=PER", "MISC=O"])
    assert mapping == {"PERSON": "PER", "MISC": "O"}
    assert mapped_tags(["B-PERSON", "I-PERSON", "O", "B-MISC", "I-MISC", "B-LOC"], mapping) == [
        "B-PER",
        "I-PER",
        "O",
        "O",
        "O",
        "B-LOC",
    ]


@pytest.mark.parametrize("item", ["PERSON", "=PER", "PERSON=", "PER SON=PER"])
def test_a_bad_type_map_is_refused_by_its_item(item):
    with pytest.raises(NerError, match="--map takes TYPE=TYPE"):
        parse_type_map([item])


def test_a_type_only_one_source_has_is_refused_unless_kept():
    types = {"a": {"PER", "LOC", "GPE"}, "b": {"PER", "LOC"}}
    with pytest.raises(
        NerError, match="entity type GPE is only in source a .*--map GPE=TYPE.*--keep-type GPE"
    ):
        check_shared_types(types, [])
    check_shared_types(types, ["GPE"])
    check_shared_types({"a": {"GPE"}}, [])  # one source: nothing to disagree with


def split(rows, labelled=True, documents=None):
    data = {"text": [r.split() for r in rows], "index": [["0"] * len(r.split()) for r in rows]}
    if labelled:
        data["NER"] = [["O"] * len(r.split()) for r in rows]
    if documents is not None:
        data["document"] = documents
    return datasets.Dataset.from_dict(data)


def test_combined_splits_keep_each_source_and_keep_documents_apart():
    first = datasets.DatasetDict({"train": split(["a b", "c"]), "test": split(["x"], labelled=False)})
    second = datasets.DatasetDict(
        {"train": split(["d", "e f", "g"], documents=[0, 0, 1]), "test": split(["y"], documents=[0])}
    )
    combined = combine({"one": first, "two": second})
    assert combined["train"][SOURCE_COLUMN] == ["one", "one", "two", "two", "two"]
    assert combined["train"]["document"] == [None, None, 0, 0, 1]
    assert combined["test"][SOURCE_COLUMN] == ["one", "two"]
    assert "NER" not in combined["test"].column_names  # one source's test has no tags
    assert combined["test"]["document"] == [None, 0]


def write(folder, rows):
    folder.mkdir(parents=True)
    for name in ("train", "val"):
        (folder / f"{name}.conll").write_text("\n".join("".join(f"{w}\t{t}\n" for w, t in r) for r in rows))
    return folder


def test_create_dataset_from_two_corpora_maps_types_and_records_its_sources(tmp_path):
    wiki = write(tmp_path / "wiki", [[("Anna", "B-PER"), ("sings", "O")]] * 3)
    news = write(tmp_path / "news", [[("Bob", "B-PERSON"), ("in", "O"), ("Oslo", "B-GPE")]] * 2)
    refused = ner("create-dataset", wiki, news, tmp_path / "ds", "--map", "PERSON=PER", expect=2)
    assert "entity type GPE is only in source news (the others have PER)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "ds").exists()
    typo = ner("create-dataset", wiki, news, tmp_path / "ds", "--map", "PRESON=PER", expect=2)
    assert "--map PRESON=PER: no source tags PRESON" in typo.stderr
    ner(
        "create-dataset",
        wiki,
        news,
        tmp_path / "ds",
        "--map",
        "PERSON=PER",
        "--map",
        "GPE=LOC",
        "--keep-type",
        "LOC",
    )
    dataset = load_dataset(tmp_path / "ds")
    assert dataset["train"][SOURCE_COLUMN] == ["wiki"] * 3 + ["news"] * 2
    assert dataset["train"]["NER"][-1] == ["B-PER", "O", "B-LOC"]
    record = read_sources(tmp_path / "ds")
    assert [s["name"] for s in record["sources"]] == ["wiki", "news"]
    assert record["sources"][1]["types"] == ["LOC", "PER"] and record["type_map"] == {
        "PERSON": "PER",
        "GPE": "LOC",
    }


def test_a_type_map_names_each_type_once():
    assert parse_type_map(["PERSON=PER", "PERSON=PER"]) == {"PERSON": "PER"}
    with pytest.raises(NerError, match="--map names PERSON twice: PERSON=PER and PERSON=LOC"):
        parse_type_map(["PERSON=PER", "PERSON=LOC"])
