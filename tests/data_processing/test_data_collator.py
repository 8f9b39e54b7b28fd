import pytest
from hypothesis import given
from hypothesis import strategies as st

from ner.data_processing.constants import LABEL_IGNORE_IDX, NER_ENCODING_MAP, PAD_TOKEN, UNK_TOKEN
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.tokenizer import Tokenizer

TAGS = [t for t in NER_ENCODING_MAP if t != "<|pad|>"]


def test_pads_to_longest_with_ignored_labels(tiny_tokenizer):
    batch = DataCollator(tiny_tokenizer)(
        [
            {"text": ["I", "am", "x"], "NER": ["O", "O", "B-PER"]},
            {"text": ["I", "am", "Naruto", "y"], "NER": ["O", "B-MISC", "O", "O"]},
        ]
    )
    assert batch["input_ids"].tolist() == [[2, 3, 1, 0], [2, 3, 4, 1]]
    assert batch["padding_mask"].tolist() == [[0, 0, 0, 1], [0, 0, 0, 0]]
    assert batch["labels"].tolist() == [[0, 0, 3, -100], [0, 7, 0, 0]]


def test_test_examples_carry_no_labels(tiny_tokenizer):
    batch = DataCollator(tiny_tokenizer)([{"text": ["I"], "index": ["0"]}])
    assert set(batch) == {"input_ids", "padding_mask"}


def test_truncation_applies_to_labels_on_the_same_side(tiny_tokenizer):
    example = {"text": ["I", "am", "Naruto"], "NER": ["B-PER", "O", "B-LOC"]}
    right = DataCollator(tiny_tokenizer, max_length=2)([example])
    assert right["labels"].tolist() == [[3, 0]]
    left = DataCollator(tiny_tokenizer, max_length=2, truncation_side="left")([example])
    assert left["input_ids"].tolist() == [[3, 4]] and left["labels"].tolist() == [[0, 5]]


def test_left_padding_pads_labels_on_the_left(tiny_tokenizer):
    batch = DataCollator(tiny_tokenizer, padding_side="left")(
        [{"text": ["I"], "NER": ["B-PER"]}, {"text": ["I", "am"], "NER": ["O", "O"]}]
    )
    assert batch["labels"].tolist() == [[-100, 3], [0, 0]]
    assert batch["padding_mask"].tolist() == [[1, 0], [0, 0]]


def test_max_length_padding(tiny_tokenizer):
    batch = DataCollator(tiny_tokenizer, padding="max_length", max_length=5)([{"text": ["I"], "NER": ["O"]}])
    assert batch["input_ids"].shape == (1, 5)


def test_unknown_tag_is_named(tiny_tokenizer):
    with pytest.raises(ValueError, match="B-FOO"):
        DataCollator(tiny_tokenizer)([{"text": ["I"], "NER": ["B-FOO"]}])


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6),
    max_length=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
    side=st.sampled_from(["left", "right"]),
    data=st.data(),
)
def test_collator_invariants(lengths, max_length, side, data):
    tiny_tokenizer = Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "I": 2})
    examples = [
        {"text": ["I"] * n, "NER": data.draw(st.lists(st.sampled_from(TAGS), min_size=n, max_size=n))}
        for n in lengths
    ]
    batch = DataCollator(tiny_tokenizer, max_length=max_length, padding_side=side, truncation_side=side)(
        examples
    )
    width = max(lengths) if max_length is None else min(max(lengths), max_length)
    assert batch["input_ids"].shape == batch["labels"].shape == (len(lengths), width)
    assert ((batch["labels"] == LABEL_IGNORE_IDX) == (batch["padding_mask"] == 1)).all()
    for row, example in enumerate(examples):
        encoded = [NER_ENCODING_MAP[t] for t in example["NER"]]
        kept = min(len(encoded), width)
        expected = encoded[:kept] if side == "right" else encoded[len(encoded) - kept :]
        real = [x for x in batch["labels"][row].tolist() if x != LABEL_IGNORE_IDX]
        assert real == expected
