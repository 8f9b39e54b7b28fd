"""The vocabulary extension's cache: the words of a run's pretrained vectors that its vocabulary lacks,
with their vectors, kept in the user's cache (`NER_CACHE_DIR`) under the checksums of the vectors and of
the vocabulary, so that opening a run skips reading the whole vectors source."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ner.data_processing.vocabulary import Vocabulary
from ner.utils.cache import cache_dir
from ner.utils.console import log
from ner.utils.io import atomic_write


def vocabulary_checksum(vocabulary: Vocabulary) -> str:
    """SHA-256 of a vocabulary's words in id order and its lookup settings."""
    digest = hashlib.sha256(json.dumps([vocabulary.lowercase, list(vocabulary.token2id)]).encode("utf-8"))
    return digest.hexdigest()


def cached_extension(vectors: str, vocabulary: Vocabulary) -> Path:
    """Where the user's cache keeps the extension of `vocabulary` by the vectors of checksum `vectors`."""
    return cache_dir() / "vocab-extension" / f"{vectors[:16]}-{vocabulary_checksum(vocabulary)[:16]}.npz"


def read_extension(path: Path, vectors: str, vocabulary: str) -> tuple[list[str], np.ndarray] | None:
    """The cached added words and their vectors, if the cache is there and made from these checksums."""
    try:
        with np.load(path) as data:
            if str(data["vectors"]) != vectors or str(data["vocabulary"]) != vocabulary:
                return None
            words = data["words"].tobytes().decode("utf-8").split("\n")
            return words, data["matrix"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def write_extension(path: Path, vectors: str, vocabulary: str, words: list[str], matrix: np.ndarray) -> None:
    """Cache the added words and their vectors, or say in one line why it cannot."""
    packed = np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(
                out, vectors=np.array(vectors), vocabulary=np.array(vocabulary), words=packed, matrix=matrix
            )

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)
    except OSError as err:
        log.print(f"[yellow]note[/]: cannot cache the vocabulary extension in {path.parent} ({err})")
