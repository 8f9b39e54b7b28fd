import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner.data_processing.readers import read_conll, read_file, read_json, read_tokens
from ner.utils.errors import DataFormatError


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_conll_reads_sentences_tags_and_global_index(tmp_path):
    path = write(
        tmp_path, "a.conll", "-DOCSTART- O\n\nEU\tB-ORG\nrejects\tO\n\nPeter B-PER\nBlackburn I-PER\n"
    )
    result = read_conll(path)
    assert [s.tokens for s in result.sentences] == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert result.sentences[1].tags == ["B-PER", "I-PER"]
    assert [s.index for s in result.sentences] == [["0", "1"], ["2", "3"]]
    assert result.labelled


def test_conll_documents_are_numbered_by_docstart_lines(tmp_path):
    content = "A\tO\n\n-DOCSTART- O\n\nB\tO\n\nC\tO\n-DOCSTART- O\n-DOCSTART- O\nD\tO\n"
    result = read_conll(write(tmp_path, "a.conll", content))
    assert [s.document for s in result.sentences] == [0, 1, 1, 2]
    assert [s.line for s in result.sentences] == [1, 5, 7, 10]
    result = read_conll(write(tmp_path, "b.conll", "-DOCSTART- O\n\nA\tO\n\nB\tO\n"))
    assert [s.document for s in result.sentences] == [0, 0]
    result = read_conll(write(tmp_path, "c.conll", "A\tO\n\nB\tO\n"))
    assert [s.document for s in result.sentences] == [None, None]


def test_conll_tag_is_the_last_column(tmp_path):
    path = write(tmp_path, "a.conll", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert read_conll(path).sentences[0].tags == ["B-ORG", "O"]


def test_token_per_line_is_unlabelled(tmp_path):
    result = read_conll(write(tmp_path, "t.tokens", "On\nthis\n\nhe\n"))
    assert not result.labelled and result.to_columns().keys() == {"text", "index"}


def test_bom_and_crlf_are_accepted(tmp_path):
    path = write(tmp_path, "a.conll", b"\xef\xbb\xbfEU\tB-ORG\r\nsays\tO\r\n\r\nok\tO\r\n")
    result = read_conll(path)
    assert result.sentences[0].tokens == ["EU", "says"] and result.sentences[1].tags == ["O"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("EU\tB-ORG\nsays\tO\textra\n", r"a.conll:2: expected 2 column\(s\)"),
        ("EU\tB-ORG\nsays\tX-FOO\n", r"a.conll:2: tag 'X-FOO' is not in the BIO scheme"),
        ("EU\tB-ORG\nsays\tB-\n", r"a.conll:2: tag 'B-'"),
        (b"EU\tB-ORG\nsa\xffys\tO\n", r"a.conll:2: bytes that are not UTF-8"),
        ("\n\n\n", r"a.conll: no sentences found"),
    ],
)
def test_conll_errors_name_file_and_line(tmp_path, content, message):
    with pytest.raises(DataFormatError, match=message):
        read_conll(write(tmp_path, "a.conll", content))


def test_missing_empty_and_directory_paths(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_conll(tmp_path / "nope.conll")
    with pytest.raises(DataFormatError, match="file is empty"):
        read_conll(write(tmp_path, "e.conll", ""))
    with pytest.raises(DataFormatError, match="is a directory"):
        read_conll(tmp_path)


def test_orphan_inside_tags_are_read_and_counted(tmp_path):
    result = read_conll(write(tmp_path, "a.conll", "a\tO\nb\tI-PER\nc\tB-LOC\nd\tI-ORG\n"))
    assert result.orphan_inside_tags == 2 and result.sentences[0].tags[1] == "I-PER"


def test_long_sentences_are_truncated_and_counted(tmp_path):
    result = read_conll(write(tmp_path, "a.conll", "a\tO\nb\tO\nc\tO\n\nd\tO\n"), max_length=2)
    assert result.truncated == 1 and result.sentences[0].tokens == ["a", "b"]


def json_file(tmp_path, data):
    return write(tmp_path, "d.json", json.dumps(data))


def test_json_reads_the_notebook_shape(tmp_path):
    data = {"text": [["A", "b"], []], "NER": [["B-PER", "O"], []], "index": [["0", "1"], []]}
    result = read_json(json_file(tmp_path, data))
    assert len(result.sentences) == 1 and result.empty_skipped == 1
    assert result.sentences[0].index == ["0", "1"]


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "not the notebook's JSON shape"),
        ({"text": [["a"]], "index": [["0"]], "extra": []}, "unknown column"),
        ({"text": [["a"], ["b"]], "NER": [["O"]], "index": [["0"], ["1"]]}, 'column "NER" has 1 sentences'),
        ({"text": [["a", "b"]], "NER": [["O"]], "index": [["0", "1"]]}, 'sentence 0: "NER" has 1 entries'),
        ({"text": [["a"]], "NER": [["Q"]], "index": [["0"]]}, "sentence 0: tag 'Q'"),
        ({"text": [["a"]], "index": [["x"]]}, "index entries must be non-negative integers"),
    ],
)
def test_json_errors(tmp_path, data, message):
    with pytest.raises(DataFormatError, match=message):
        read_json(json_file(tmp_path, data))


def test_json_syntax_error_names_the_line(tmp_path):
    with pytest.raises(DataFormatError, match=r"d.json:2: not valid JSON"):
        read_json(write(tmp_path, "d.json", '{"text": [["a"]],\n "index": [["0"]] oops}'))


def test_pretokenized_text_one_sentence_a_line(tmp_path):
    result = read_tokens(write(tmp_path, "r.tokens", "Hello world .\n\nAnother one\n"))
    assert [s.tokens for s in result.sentences] == [["Hello", "world", "."], ["Another", "one"]]
    assert result.empty_skipped == 1 and result.sentences[1].index == ["3", "4"]


def test_read_file_picks_the_reader_by_suffix(tmp_path):
    assert read_file(write(tmp_path, "r.tokens", "a b\n")).sentences[0].tokens == ["a", "b"]
    assert read_file(write(tmp_path, "r.conll", "a\nb\n")).sentences[0].tokens == ["a", "b"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_result_or_a_data_format_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "f.conll"
    path.write_bytes(content)
    try:
        result = read_conll(path)
    except DataFormatError:
        return
    assert all(len(s.tokens) == len(s.index) for s in result.sentences)
    assert all(s.tags is None or len(s.tags) == len(s.tokens) for s in result.sentences)
