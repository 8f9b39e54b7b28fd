"""File formats: each suffix is written once, in ner/data_processing/formats.py."""

import re

from ner.data_processing.formats import SUFFIXES, conll_sentence, file_name, format_of, listed, suffixes
from tests.conftest import ROOT


def test_only_the_formats_module_spells_a_formats_suffix():
    quoted = re.compile("|".join(re.escape(f'"{s}"') for s in suffixes(*SUFFIXES)))
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "ner").rglob("*.py"))
        if path.name != "formats.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if quoted.search(line)
    ]
    assert found == []


def test_a_path_names_its_format_among_those_asked_for():
    assert format_of("a/b/Train.CONLL", SUFFIXES) == "conll"
    assert format_of("docs.txt", ("raw", "jsonl")) == "raw" and format_of("docs.txt", ("jsonl",)) is None
    assert format_of("noext", SUFFIXES) is None
    assert file_name("shard-3", "parquet") == "shard-3.parquet"
    assert listed("jsonl", "raw", "parquet") == ".jsonl, .txt or .parquet" and listed("html") == ".html"


def test_a_conll_sentence_is_token_tab_tag_lines():
    assert conll_sentence(["Anna", "sings"], ["B-PER", "O"]) == "Anna\tB-PER\nsings\tO\n"
