"""Teaching a student: a teacher model's label probabilities of each token of the training sentences and of
unlabelled raw text, computed once and cached, attached to the examples the student trains on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ner.data_processing.constants import PAD_NER_TAG, TEACHER_COLUMN
from ner.data_processing.formats import listed
from ner.data_processing.readers import raw_format, stream_documents
from ner.data_processing.sources import SOURCE_COLUMN
from ner.data_processing.text import TextSplitter
from ner.inference.opening import open_model
from ner.nn.tags.chain import Chain
from ner.nn.tags.schemes import BIO
from ner.runtime.folder import installed_model
from ner.runtime.model import Model
from ner.utils.cache import cache_dir
from ner.utils.console import log
from ner.utils.errors import ConfigError, DataFormatError
from ner.utils.io import atomic_path

TRANSFER_SOURCE = "unlabeled"
CHUNK = 4096


def token_marginals(chain: Chain, scheme: BIO) -> np.ndarray:
    """(tokens, BIO labels) each token's label probabilities from a sentence's tag chain."""
    tags = np.exp(chain.alpha + chain.beta - chain.log_z)
    labels = np.zeros((tags.shape[0], len(scheme.bio_labels)))
    np.add.at(labels.T, scheme.to_bio, tags.T)
    return labels / labels.sum(axis=1, keepdims=True).clip(min=1e-12)


def label_order(teacher: Model, student_labels: Sequence[str], name: str) -> np.ndarray:
    """For each of the teacher's labels, its column among the student's; a type the student lacks is
    refused, since the teacher would teach the student to find it."""
    missing = sorted(
        {label[2:] for label in teacher.labels if label != "O"} - {label[2:] for label in student_labels}
    )
    if missing:
        raise ConfigError(
            "distill.teacher",
            f"{name} tags {', '.join(missing)}, which the student's data does not have; give the student a "
            "dataset with those types or a teacher without them",
        )
    return np.array([list(student_labels).index(label) for label in teacher.labels])


def teacher_key(folder: Path, texts: Sequence[Sequence[str]], labels: Sequence[str]) -> str:
    """The cache key of a teacher's probabilities: its folder's files (name, size, time) and the texts."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(json.dumps([list(labels), [list(t) for t in texts]]).encode())
    return digest.hexdigest()[:32]


def teacher_probabilities(
    teacher_name: str, texts: Sequence[Sequence[str]], student_labels: Sequence[str]
) -> list[np.ndarray]:
    """The teacher's label probabilities (in the student's label order) of each token of `texts`, tagged
    once and cached in the user's cache (`NER_CACHE_DIR`) by teacher and texts."""
    folder = installed_model(teacher_name)
    teacher = open_model(folder, document_consistency=False)
    columns = label_order(teacher, student_labels, teacher_name)
    path = cache_dir() / "teacher" / f"{teacher_key(teacher.folder, texts, student_labels)}.npz"
    lengths = np.array([len(t) for t in texts])
    if path.is_file():
        flat = np.load(path)["probabilities"].astype(np.float32)
    else:
        log.print(f"teacher {teacher_name}: tagging {len(texts):,} sentences")
        flat = np.zeros((int(lengths.sum()), len(student_labels)), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), CHUNK):  # tag chains of a chunk at a time: memory stays flat
            chains = teacher.predictor.predict(texts[start : start + CHUNK], scores=True).chains
            rows.extend(token_marginals(chain, teacher.predictor.scheme) for chain in chains)
        flat[:, columns] = np.concatenate(rows)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, probabilities=flat.astype(np.float16))
    return np.split(flat, np.cumsum(lengths)[:-1])


def unlabeled_sentences(paths: Sequence[str | Path]) -> list[list[str]]:
    """The sentences of raw-text files (.txt: a document a line; .jsonl: a "text" a line), streamed and
    split into tokens as raw text is tagged."""
    splitter = TextSplitter()
    sentences: list[list[str]] = []
    for path in paths:
        fmt = raw_format(path)
        if fmt is None:
            raise DataFormatError(
                str(path), None, f"transfer text is read from {listed('raw', 'jsonl')} files"
            )
        texts = (record["text"] for record in stream_documents(path, fmt))
        for doc in splitter.pipe(texts):
            sentences.extend([token.text for token in sentence] for sentence in doc)
    return sentences


def taught_examples(
    examples: list[dict],
    teacher: str,
    unlabeled: Sequence[str | Path],
    student_labels: Sequence[str],
    text_colname: str,
    label_colname: str,
) -> list[dict]:
    """The training examples, each with the teacher's probabilities, and the unlabelled files' sentences
    as examples the teacher alone teaches (no gold tags; source `unlabeled`)."""
    extra = unlabeled_sentences(unlabeled)
    texts = [e[text_colname] for e in examples] + extra
    probabilities = teacher_probabilities(teacher, texts, student_labels)
    taught = [e | {TEACHER_COLUMN: p} for e, p in zip(examples, probabilities[: len(examples)], strict=True)]
    for tokens, p in zip(extra, probabilities[len(examples) :], strict=True):
        taught.append(
            {
                text_colname: tokens,
                label_colname: [PAD_NER_TAG] * len(tokens),
                SOURCE_COLUMN: TRANSFER_SOURCE,
                TEACHER_COLUMN: p,
            }
        )
    if extra:
        log.print(
            f"transfer text: {len(extra):,} sentences from {len(unlabeled)} file(s), taught by {teacher}"
        )
    return taught
