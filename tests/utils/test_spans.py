import pytest
from hypothesis import given
from hypothesis import strategies as st

from ner.data_processing.constants import NER_ENCODING_MAP
from ner.utils.spans import orphan_inside, tag_spans
from ner.utils.utils import get_named_entity_spans

E = NER_ENCODING_MAP


def ids(*tags):
    return [E[t] for t in tags]


def test_returns_all_four_types_even_when_empty():
    assert get_named_entity_spans(ids("O", "O")) == {"LOC": [], "MISC": [], "PER": [], "ORG": []}


def test_b_then_i_of_same_type_is_one_span():
    spans = get_named_entity_spans(ids("B-PER", "I-PER", "O", "B-LOC"))
    assert spans["PER"] == [(0, 1)] and spans["LOC"] == [(3, 3)]


def test_entity_at_end_of_sentence_is_closed():
    assert get_named_entity_spans(ids("O", "B-ORG", "I-ORG"))["ORG"] == [(1, 2)]


def test_adjacent_b_tags_start_new_spans():
    assert get_named_entity_spans(ids("B-PER", "B-PER", "I-PER"))["PER"] == [(0, 0), (1, 2)]


def test_i_of_other_type_ends_span_and_starts_none():
    spans = get_named_entity_spans(ids("B-PER", "I-LOC", "I-LOC"))
    assert spans["PER"] == [(0, 0)] and spans["LOC"] == []


def test_orphan_i_after_o_starts_no_span():
    assert get_named_entity_spans(ids("O", "I-MISC", "I-MISC"))["MISC"] == []


def test_token_idxs_give_positions():
    spans = get_named_entity_spans(ids("O", "B-LOC", "I-LOC"), token_idxs=["119", "120", "121"])
    assert spans["LOC"] == [(120, 121)]


def test_empty_sequence():
    assert get_named_entity_spans([]) == {"LOC": [], "MISC": [], "PER": [], "ORG": []}


def spans_to_tags(length, spans):
    tags = ["O"] * length
    for etype, etype_spans in spans.items():
        for start, end in etype_spans:
            tags[start] = f"B-{etype}"
            for i in range(start + 1, end + 1):
                tags[i] = f"I-{etype}"
    return tags


@st.composite
def non_overlapping_spans(draw):
    length = draw(st.integers(min_value=0, max_value=30))
    spans = {"LOC": [], "MISC": [], "PER": [], "ORG": []}
    position = 0
    while position < length:
        position += draw(st.integers(min_value=0, max_value=3))
        if position >= length:
            break
        end = min(length - 1, position + draw(st.integers(min_value=0, max_value=4)))
        spans[draw(st.sampled_from(sorted(spans)))].append((position, end))
        position = end + 1
    return length, spans


@given(non_overlapping_spans())
def test_spans_tags_spans_roundtrip(case):
    length, spans = case
    assert get_named_entity_spans(ids(*spans_to_tags(length, spans))) == spans


def test_tag_spans_are_typed_ordered_and_inclusive():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "B-ORG", "I-ORG"]
    assert tag_spans(tags) == [("PER", 0, 1), ("LOC", 4, 4), ("ORG", 5, 6)]


def test_token_idxs_must_match_the_tags_in_length():
    with pytest.raises(ValueError, match="differ in length"):
        get_named_entity_spans([0, 0], [0])


def test_orphan_inside_is_an_i_tag_that_continues_no_entity_of_its_type():
    assert orphan_inside("O", "I-PER") and orphan_inside("B-LOC", "I-PER") and orphan_inside("I-LOC", "I-PER")
    assert not orphan_inside("B-PER", "I-PER") and not orphan_inside("I-PER", "I-PER")
    assert not orphan_inside("O", "B-PER") and not orphan_inside("B-PER", "O")
