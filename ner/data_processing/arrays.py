"""Dynamic padding of a batch of examples into model-ready numpy arrays, one per input a model reads. It
needs no torch: the runtime of exported models feeds these arrays to ONNX Runtime, and the DataCollator
turns them into a typed batch of tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ner.data_processing.casing_classes import PAD, casing_class
from ner.data_processing.constants import LABEL_IGNORE_IDX, NER_ENCODING_MAP, PAD_NER_TAG, TEACHER_COLUMN
from ner.data_processing.vocabulary import Vocabulary
from ner.data_processing.word_pieces import WordPieces


class ArrayCollator:
    """Tokenizes a list of examples and pads them to the batch's longest sequence (or to `max_length`)."""

    def __init__(
        self,
        tokenizer: Vocabulary,
        padding: str | bool = "longest",
        max_length: int | None = None,
        padding_side: str = "right",
        truncation_side: str = "right",
        pad_tag: str = PAD_NER_TAG,
        text_colname: str = "text",
        label_colname: str = "NER",
        label2id: dict[str, int] | None = None,
        char_max_length: int | None = None,
        char_lower: bool = False,
        casing: bool = False,
        word_pieces: str | None = None,
        word_pieces_file: str | Path | None = None,
    ):
        if padding not in ("longest", "max_length", True):
            raise ValueError(f"padding must be 'longest' or 'max_length', got {padding!r}")
        if padding == "max_length" and max_length is None:
            raise ValueError("padding='max_length' needs max_length")
        self.tokenizer = tokenizer
        self.padding = "longest" if padding is True else padding
        self.max_length = max_length
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.pad_tag = pad_tag
        self.text_colname = text_colname
        self.label_colname = label_colname
        label2id = dict(label2id) if label2id is not None else dict(NER_ENCODING_MAP)
        label2id[pad_tag] = LABEL_IGNORE_IDX
        self.label2id = label2id
        self.char_max_length = char_max_length
        self.char_lower = char_lower
        self.casing = casing
        self.word_pieces = WordPieces(word_pieces, tokenizer_file=word_pieces_file) if word_pieces else None

    @property
    def labels(self) -> list[str]:
        """The tags, in id order (the padding tag left out)."""
        id2label = {i: label for label, i in self.label2id.items() if i != LABEL_IGNORE_IDX}
        return [id2label[i] for i in range(len(id2label))]

    def _get_max_length(self, sentences: list[list[str]]) -> int:
        """Length every sequence of the batch is padded or truncated to."""
        if self.padding == "max_length":
            return self.max_length
        longest = max(len(sentence) for sentence in sentences)
        return longest if self.max_length is None else min(longest, self.max_length)

    def encode_labels(self, tags: list[str]) -> list[int]:
        """Ids of a sentence's tags."""
        try:
            return [self.label2id[tag] for tag in tags]
        except KeyError as err:
            raise ValueError(f"tag {err.args[0]!r} is not in the label set {sorted(self.label2id)}") from None

    def _soft_labels(self, data_instances: list[dict], length: int) -> np.ndarray:
        """(batch, length, labels) float32 teacher probabilities, zero at padding and where none was given."""
        soft = np.zeros((len(data_instances), length, len(self.labels)), dtype=np.float32)
        for row, instance in enumerate(data_instances):
            given = instance.get(TEACHER_COLUMN)
            if given is not None:
                positions = np.array(self._fit(list(range(len(given))), length, -1))
                slots = positions >= 0
                soft[row, slots] = np.asarray(given, dtype=np.float32)[positions[slots]]
        return soft

    def _fit(self, values: list, length: int, pad: object) -> list:
        """Truncate or pad a per-token sequence exactly as the tokenizer does its tokens."""
        if len(values) > length:
            values = values[:length] if self.truncation_side == "right" else values[len(values) - length :]
        padding = [pad] * (length - len(values))
        return values + padding if self.padding_side == "right" else padding + values

    def _byte_rows(self, sentences: list[list[str]], length: int) -> list[list[bytes]]:
        """Each position's first UTF-8 bytes of its token, lower-cased with `char_lower` (b"" at padding)."""
        limit = self.char_max_length
        fold = str.lower if self.char_lower else str
        return [
            self._fit([fold(token).encode("utf-8")[:limit] for token in sentence], length, b"")
            for sentence in sentences
        ]

    def _char_words(self, sentences: list[list[str]], length: int) -> dict[str, np.ndarray]:
        """`char_words` (words, chars): the ids of each distinct word's first UTF-8 bytes (byte b is b + 1,
        0 after the word; row 0 the empty word of padding), and `char_index` (batch, length): each
        position's row, so character encoders read each word of a batch once."""
        rows = self._byte_rows(sentences, length)
        index = {b"": 0}
        positions = np.array(
            [[index.setdefault(word, len(index)) for word in row] for row in rows], dtype=np.int64
        )
        return {"char_words": byte_ids(list(index)), "char_index": positions.reshape(len(rows), length)}

    def _word_slots(self, sentences: list[list[str]], length: int) -> list[list[int]]:
        """Flat (batch, length) grid position of each word of each example, -1 if truncated away."""
        slots = []
        for row, sentence in enumerate(sentences):
            words = len(sentence)
            position = [-1] * words
            for slot, word in enumerate(self._fit(list(range(words)), length, -1)):
                if word >= 0:
                    position[word] = row * length + slot
            slots.append(position)
        return slots

    def arrays(self, data_instances: list[dict]) -> dict[str, np.ndarray]:
        """int64 arrays `input_ids`, `padding_mask` and, for labelled examples, `labels` (-100 at
        padding); float32 `soft_labels` for examples with a teacher's
        label probabilities (`TEACHER_COLUMN`, one row a token); `char_words`/`char_index`, `casing_ids` and `piece_ids`/`piece_word` for models that read them."""
        sentences = [list(instance[self.text_colname]) for instance in data_instances]
        length = self._get_max_length(sentences)
        batch_size = len(data_instances)
        input_ids = np.empty((batch_size, length), dtype=np.int64)
        padding_mask = np.empty((batch_size, length), dtype=np.int64)
        labelled = self.label_colname in data_instances[0]
        labels = np.empty((batch_size, length), dtype=np.int64) if labelled else None
        for row, (instance, sentence) in enumerate(zip(data_instances, sentences, strict=True)):
            input_ids[row], padding_mask[row] = self.tokenizer.padded(
                sentence,
                max_length=length,
                padding_side=self.padding_side,
                truncation_side=self.truncation_side,
            )
            if labels is not None:
                encoded_labels = self.encode_labels(instance[self.label_colname])
                labels[row] = self._fit(encoded_labels, length, LABEL_IGNORE_IDX)
        arrays = {"input_ids": input_ids, "padding_mask": padding_mask}
        if labels is not None:
            arrays["labels"] = labels
        if any(TEACHER_COLUMN in instance for instance in data_instances):
            arrays["soft_labels"] = self._soft_labels(data_instances, length)
        if self.char_max_length:
            arrays |= self._char_words(sentences, length)
        if self.casing:
            rows = [[casing_class(t) for t in sentence] for sentence in sentences]
            arrays["casing_ids"] = np.array([self._fit(row, length, PAD) for row in rows], dtype=np.int64)
        if self.word_pieces is not None:
            arrays |= self.word_pieces.segments(sentences, self._word_slots(sentences, length))
        return arrays


def byte_ids(words: list[bytes]) -> np.ndarray:
    """(words, longest) ids of each word's bytes (byte b is b + 1), 0 after its end."""
    width = max(1, max((len(word) for word in words), default=1))
    # 0xFF never occurs in UTF-8, so it marks the padding in one flat buffer.
    flat = np.frombuffer(b"".join(word.ljust(width, b"\xff") for word in words), dtype=np.uint8)
    return np.where(flat == 0xFF, 0, flat.astype(np.int64) + 1).reshape(len(words), width)
