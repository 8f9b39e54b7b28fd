import json

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.data_processing.tokenizer import Tokenizer
from ner.utils.errors import DataFormatError


def test_tokenize_string_splits_on_spaces_and_maps_unknown(tiny_tokenizer):
    out = tiny_tokenizer.tokenize("I am Naruto Uzumaki")
    assert out["input_ids"].tolist() == [2, 3, 4, 1]
    assert out["padding_mask"].tolist() == [0, 0, 0, 0]
    assert out["input_ids"].dtype == torch.long


def test_pad_right_and_left(tiny_tokenizer):
    right = tiny_tokenizer.tokenize("I am Naruto Uzumaki", max_length=6)
    assert right["input_ids"].tolist() == [2, 3, 4, 1, 0, 0]
    assert right["padding_mask"].tolist() == [0, 0, 0, 0, 1, 1]
    left = tiny_tokenizer.tokenize("I am Naruto Uzumaki", max_length=6, padding_side="left")
    assert left["input_ids"].tolist() == [0, 0, 2, 3, 4, 1]
    assert left["padding_mask"].tolist() == [1, 1, 0, 0, 0, 0]


def test_truncate_right_and_left(tiny_tokenizer):
    assert tiny_tokenizer.tokenize(["I", "am", "Naruto"], max_length=2)["input_ids"].tolist() == [2, 3]
    left = tiny_tokenizer.tokenize(["I", "am", "Naruto"], max_length=2, truncation_side="left")
    assert left["input_ids"].tolist() == [3, 4]


def test_lowercase_applies_to_training_and_lookup():
    tok = Tokenizer(lowercase=True).train({"text": [["Paris", "paris", "PARIS", "Rome"]]}, min_freq=2)
    assert "paris" in tok.token2id and "Paris" not in tok.token2id and "rome" not in tok.token2id
    assert tok.tokenize(["PaRiS"])["input_ids"].tolist() == [tok.token2id["paris"]]


def test_train_min_freq_then_remove_frac():
    sentences = [["a"] * 9 + ["b"] * 7 + ["c"] * 5 + ["d"] * 3 + ["e"]]
    tok = Tokenizer().train({"text": sentences}, min_freq=3, remove_frac=0.5)
    # a, b, c, d pass min_freq 3; removing half of them drops the two least frequent.
    assert set(tok.token2id) == {PAD_TOKEN, UNK_TOKEN, "a", "b"}
    assert tok.token2id[PAD_TOKEN] == 0 and tok.token2id[UNK_TOKEN] == 1


def test_train_without_reset_extends_vocabulary(tiny_tokenizer):
    tiny_tokenizer.train({"text": [["new", "new"]]}, min_freq=2, reset=False)
    assert tiny_tokenizer.token2id["Naruto"] == 4 and tiny_tokenizer.token2id["new"] == 5


def test_repr(tiny_tokenizer):
    assert (
        repr(tiny_tokenizer)
        == "Tokenizer(vocab_size=5, pad_token=<|pad|>, unk_token=<|unk|>, lowercase=False)"
    )


def test_save_and_load_roundtrip(tmp_path, tiny_tokenizer):
    path = tmp_path / "tok" / "tokenizer.json"
    tiny_tokenizer.save(path)
    loaded = Tokenizer()
    loaded.from_file(path)
    assert loaded.token2id == tiny_tokenizer.token2id and loaded.id2token[4] == "Naruto"
    assert list(tmp_path.joinpath("tok").iterdir()) == [path]


def test_bad_tokenizer_file_is_refused(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"token2id": {"a": "zero"}}))
    with pytest.raises(DataFormatError, match="tokenizer.json"):
        Tokenizer.load(path)
    path.write_text(json.dumps({"token2id": {"a": 0, "b": 5}}))
    with pytest.raises(DataFormatError, match="unique"):
        Tokenizer.load(path)


def test_bad_arguments_are_refused(tiny_tokenizer):
    with pytest.raises(ValueError, match="padding_side"):
        tiny_tokenizer.tokenize("I", max_length=3, padding_side="middle")
    with pytest.raises(ValueError, match="remove_frac"):
        Tokenizer().train({"text": [["a"]]}, remove_frac=1.0)


@given(
    tokens=st.lists(st.sampled_from(["I", "am", "Naruto", "x", "y"]), min_size=0, max_size=20),
    max_length=st.integers(min_value=0, max_value=25),
    padding_side=st.sampled_from(["left", "right"]),
    truncation_side=st.sampled_from(["left", "right"]),
)
def test_padding_and_truncation_invariants(tokens, max_length, padding_side, truncation_side):
    tok = Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "I": 2, "am": 3, "Naruto": 4})
    out = tok.tokenize(tokens, max_length, padding_side, truncation_side)
    ids, mask = out["input_ids"].tolist(), out["padding_mask"].tolist()
    assert len(ids) == len(mask) == max_length
    kept = min(len(tokens), max_length)
    assert sum(mask) == max_length - kept
    assert all((i == 0) == (m == 1) for i, m in zip(ids, mask, strict=True))
    real = [i for i, m in zip(ids, mask, strict=True) if m == 0]
    full = tok.encode(tokens)
    assert real == (full[:kept] if truncation_side == "right" else full[len(full) - kept :])
    if kept < max_length:
        assert (mask[-1] == 1) if padding_side == "right" else (mask[0] == 1)


def test_case_backoff_looks_an_unknown_form_up_by_the_words_most_frequent_casing():
    # A trained vocabulary lists words by frequency: "win" is more frequent than "Win".
    vocab = {PAD_TOKEN: 0, UNK_TOKEN: 1, "Japan": 2, "win": 3, "McDonald": 4, "Win": 5, "u.s.": 6}
    plain = Tokenizer().from_dict(vocab)
    backoff = Tokenizer(case_backoff=True).from_dict(vocab)
    tokens = ["JAPAN", "WIN", "U.S.", "MCDONALD", "japan", "Win", "Kyoto", "mcdonald", "wIN"]
    assert plain.encode(tokens) == [1, 1, 1, 1, 1, 5, 1, 1, 1]
    assert backoff.encode(tokens) == [2, 3, 6, 4, 2, 5, 1, 4, 3]
    assert repr(backoff).endswith("lowercase=False, case_backoff=True)")


def test_case_backoff_comes_before_the_vocabulary_extension():
    tokenizer = Tokenizer(case_backoff=True).from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "Paris": 2})
    tokenizer.extend(["paris", "lyon"])
    assert tokenizer.encode(["paris", "PARIS", "Lyon", "LYON", "nice"]) == [2, 2, 3, 3, 1]


def test_case_backoff_is_saved_with_the_tokenizer(tmp_path):
    tokenizer = Tokenizer(case_backoff=True).from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "Japan": 2})
    tokenizer.save(tmp_path / "t.json")
    assert Tokenizer.load(tmp_path / "t.json").case_backoff
