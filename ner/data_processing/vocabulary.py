"""A word-level vocabulary: tokens to ids, frequency-filtered from training data, saved as JSON. It
needs no torch, so the runtime of exported models reads it too."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
from ner.utils.errors import DataFormatError
from ner.utils.io import atomic_write_text


class Vocabulary:
    """Maps word tokens to integer ids."""

    def __init__(
        self,
        pad_token: str = PAD_TOKEN,
        unk_token: str = UNK_TOKEN,
        lowercase: bool = False,
        case_backoff: bool = False,
    ):
        self.pad_token = pad_token
        self.unk_token = unk_token
        self.lowercase = lowercase
        self.case_backoff = case_backoff
        self.token2id: dict[str, int] = {}
        self.id2token: dict[int, str] = {}
        self.extension: dict[str, int] = {}
        self.casefold: dict[str, int] = {}
        self._reset()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, pad_token={self.pad_token}, "
            f"unk_token={self.unk_token}, lowercase={self.lowercase}"
            + (", case_backoff=True)" if self.case_backoff else ")")
        )

    @property
    def vocab_size(self) -> int:
        """Number of entries in the vocabulary, special tokens included."""
        return len(self.token2id)

    @property
    def pad_id(self) -> int:
        """Id of the padding token."""
        return self.token2id[self.pad_token]

    @property
    def unk_id(self) -> int:
        """Id of the unknown-word token."""
        return self.token2id[self.unk_token]

    def _reset(self) -> None:
        """Empty the vocabulary down to the padding and unknown tokens."""
        self.from_dict({self.pad_token: 0, self.unk_token: 1})

    def normalize(self, token: str) -> str:
        """The form of a token as it is looked up in the vocabulary."""
        return token.lower() if self.lowercase else token

    def from_dict(self, token2id: dict[str, int]) -> Vocabulary:
        """Replace the vocabulary with `token2id`."""
        ids = list(token2id.values())
        if len(set(ids)) != len(ids) or sorted(ids) != list(range(len(ids))):
            raise ValueError("token ids must be unique and numbered 0..vocab_size-1")
        for special in (self.pad_token, self.unk_token):
            if special not in token2id:
                raise ValueError(f"vocabulary lacks the special token {special!r}")
        self.token2id = dict(token2id)
        self.id2token = {idx: token for token, idx in self.token2id.items()}
        self.casefold = {}
        for idx in sorted(self.id2token):
            self.casefold.setdefault(self.id2token[idx].lower(), idx)
        self.extension = {}
        return self

    def train(
        self,
        train_data: Iterable[dict] | object,
        text_colname: str = "text",
        min_freq: int = 1,
        remove_frac: float = 0.0,
        reset: bool = True,
    ) -> Vocabulary:
        """Build the vocabulary from a dataset column: keep tokens seen `min_freq` times, then drop the
        `remove_frac` least frequent of those."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}")
        if not 0.0 <= remove_frac < 1.0:
            raise ValueError(f"remove_frac must lie in [0, 1), got {remove_frac}")
        if reset:
            self._reset()
        sentences = train_data[text_colname]
        counts = Counter(self.normalize(token) for sentence in sentences for token in sentence)
        kept = [(token, freq) for token, freq in counts.most_common() if freq >= min_freq]
        kept = kept[: len(kept) - int(remove_frac * len(kept))]
        for token, _ in kept:
            if token not in self.token2id:
                self.token2id[token] = len(self.token2id)
        self.from_dict(self.token2id)
        return self

    def encode(self, tokens: list[str]) -> list[int]:
        """Ids of a list of tokens, unknown ones mapped to the unknown token's id."""
        return [self.lookup(token) for token in tokens]

    def lookup(self, token: str) -> int:
        """Id of one token; with `case_backoff`, a form not in the vocabulary falls back to the
        vocabulary's most frequent casing of the word (a headline's "JAPAN" and a chat's "japan" are
        then "Japan", an upper-cased sentence's "THE" is "the"); then to the vocabulary extension."""
        token = self.normalize(token)
        found = self.token2id.get(token)
        if found is None and self.case_backoff:
            found = self.casefold.get(token.lower())
        if found is None and self.extension:
            found = self.extension.get(token.lower())
        return self.unk_id if found is None else found

    def extend(self, words: Sequence[str]) -> list[int]:
        """Give each word whose lowercase form no vocabulary entry has (in any case) an id after the
        vocabulary and any earlier extension, looked up (lowercased) only for tokens the vocabulary does
        not know; returns the positions in `words` that got an id, in id order. The saved vocabulary is
        not changed."""
        known = {token.lower() for token in self.token2id} | set(self.extension)
        positions = []
        for position, word in enumerate(words):
            key = word.lower()
            if key not in known:
                known.add(key)
                self.extension[key] = self.vocab_size + len(self.extension)
                positions.append(position)
        return positions

    def add_extension(self, keys: Sequence[str]) -> None:
        """Give each of `keys` (lowercase words, as `extend` records them) the next id after the
        vocabulary and any earlier extension, in order."""
        first = self.vocab_size + len(self.extension)
        self.extension.update(zip(keys, range(first, first + len(keys)), strict=True))

    def padded(
        self,
        input_seq: str | list[str],
        max_length: int | None = None,
        padding_side: str = "right",
        truncation_side: str = "right",
    ) -> tuple[list[int], list[int]]:
        """Token ids and padding mask (1 at padding) of a sequence, exactly `max_length` long if given;
        a str is split on spaces."""
        check_side("padding_side", padding_side)
        check_side("truncation_side", truncation_side)
        tokens = input_seq.split(" ") if isinstance(input_seq, str) else list(input_seq)
        ids = self.encode(tokens)
        mask = [0] * len(ids)
        if max_length is not None:
            if max_length < 0:
                raise ValueError(f"max_length must not be negative, got {max_length}")
            if len(ids) > max_length:
                ids = ids[:max_length] if truncation_side == "right" else ids[len(ids) - max_length :]
                mask = mask[:max_length]
            pad = max_length - len(ids)
            if padding_side == "right":
                ids, mask = ids + [self.pad_id] * pad, mask + [1] * pad
            else:
                ids, mask = [self.pad_id] * pad + ids, [1] * pad + mask
        return ids, mask

    def decode(self, input_ids: Iterable[int]) -> list[str]:
        """Tokens of a sequence of ids."""
        return [self.id2token[int(idx)] for idx in input_ids]

    def to_dict(self) -> dict:
        """The tokenizer's settings and vocabulary as JSON-ready data."""
        return {
            "pad_token": self.pad_token,
            "unk_token": self.unk_token,
            "lowercase": self.lowercase,
            "case_backoff": self.case_backoff,
            "token2id": self.token2id,
        }

    def save(self, path: str | Path) -> None:
        """Write the tokenizer to a JSON file, whole or not at all."""
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False))

    def from_file(self, path: str | Path) -> Vocabulary:
        """Load a tokenizer saved with `save` into this instance."""
        data = _read_tokenizer_json(Path(path))
        self.pad_token = data.get("pad_token", self.pad_token)
        self.unk_token = data.get("unk_token", self.unk_token)
        self.lowercase = bool(data.get("lowercase", self.lowercase))
        self.case_backoff = bool(data.get("case_backoff", self.case_backoff))
        try:
            self.from_dict(data["token2id"])
        except ValueError as err:
            raise DataFormatError(str(path), None, str(err)) from None
        return self

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """A new tokenizer read from a file written by `save`."""
        return cls().from_file(path)


def check_side(name: str, side: str) -> None:
    """Refuse a side other than left or right."""
    if side not in ("left", "right"):
        raise ValueError(f"{name} must be 'left' or 'right', got {side!r}")


def _read_tokenizer_json(path: Path) -> dict:
    """Parse and shape-check a tokenizer file."""
    from ner.utils.files import read_json_file

    data = read_json_file(path)
    token2id = data.get("token2id") if isinstance(data, dict) else None
    if not isinstance(token2id, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in token2id.items()
    ):
        raise DataFormatError(
            str(path), None, "not a tokenizer file: expected a 'token2id' map of str to int"
        )
    return data
