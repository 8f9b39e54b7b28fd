"""The peer systems of the accuracy benchmark: sklearn-crfsuite and spaCy, trained from scratch."""

from __future__ import annotations

import pickle
import random
import time

from ner.utils.metrics import compute_entity_f1, seqeval_scores
from ner.utils.spans import orphan_inside


def word_features(sentence: list[str], i: int) -> dict:
    """The classic CRF feature set: word, lowercase, suffixes, shape, and the neighbours' words."""
    word = sentence[i]
    features = {
        "bias": 1.0,
        "word.lower": word.lower(),
        "word[-3:]": word[-3:],
        "word[-2:]": word[-2:],
        "word.isupper": word.isupper(),
        "word.istitle": word.istitle(),
        "word.isdigit": word.isdigit(),
        "word.shape": "".join(
            "X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c for c in word
        )[:6],
    }
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(sentence):
            neighbour = sentence[j]
            features.update(
                {f"{offset}:word.lower": neighbour.lower(), f"{offset}:word.istitle": neighbour.istitle()}
            )
        else:
            features[f"{offset}:edge"] = True
    return features


class CrfSuitePeer:
    """sklearn-crfsuite with L-BFGS and elastic-net regularisation."""

    name = "sklearn-crfsuite"

    def fit(self, sentences: list[list[str]], tags: list[list[str]], val=None) -> int:
        import sklearn_crfsuite

        self.model = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100)
        self.model.fit([[word_features(s, i) for i in range(len(s))] for s in sentences], tags)
        return 100

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        features = [[word_features(s, i) for i in range(len(s))] for s in sentences]
        return [list(tags) for tags in self.model.predict(features)]

    def num_params(self) -> int:
        return len(self.model.state_features_) + len(self.model.transition_features_)

    def size_mb(self) -> float:
        """The trained model's size as saved (pickled, CRFsuite's binary model inside)."""
        return len(pickle.dumps(self.model)) / 1e6


class SpacyPeer:
    """spaCy's NER (transition-based, hash-embedding CNN) on a blank English pipeline, from scratch,
    trained with its own early stopping on validation micro F1."""

    name = "spaCy blank-en ner"

    def __init__(self, max_epochs: int = 30, patience: int = 3, seed: int = 0):
        self.max_epochs, self.patience, self.seed = max_epochs, patience, seed

    def _doc(self, words: list[str], tags: list[str] | None = None):
        from spacy.tokens import Doc

        return Doc(self.nlp.vocab, words=words, ents=tags) if tags else Doc(self.nlp.vocab, words=words)

    def fit(self, sentences: list[list[str]], tags: list[list[str]], val=None) -> int:
        import spacy
        from spacy.training import Example

        spacy.util.fix_random_seed(self.seed)
        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("ner")
        examples = [
            Example(self._doc(s), self._doc(s, repair_iob(t))) for s, t in zip(sentences, tags, strict=True)
        ]
        optimizer = self.nlp.initialize(lambda: examples)
        best, best_bytes, since, epochs = -1.0, None, 0, 0
        rng = random.Random(self.seed)
        for epoch in range(self.max_epochs):
            epochs = epoch + 1
            rng.shuffle(examples)
            for batch in spacy.util.minibatch(examples, size=spacy.util.compounding(4.0, 32.0, 1.001)):
                self.nlp.update(batch, drop=0.2, sgd=optimizer)
            score = seqeval_scores(val[1], self.predict(val[0]))["entity_f1_micro"] if val else 0.0
            if score > best:
                best, best_bytes, since = score, self.nlp.to_bytes(), 0
            else:
                since += 1
                if since >= self.patience:
                    break
        self.nlp.from_bytes(best_bytes)
        return epochs

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        docs = self.nlp.pipe(self._doc(s) for s in sentences)
        return [
            [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc] for doc in docs
        ]

    def size_mb(self) -> float:
        """The trained pipeline's size as saved (`nlp.to_bytes`)."""
        return len(self.nlp.to_bytes()) / 1e6

    def num_params(self) -> int:
        ner = self.nlp.get_pipe("ner")
        return sum(
            int(p.size)
            for node in ner.model.walk()
            for name in node.param_names
            for p in [node.get_param(name)]
        )


def repair_iob(tags: list[str]) -> list[str]:
    """Tags with each I-X that does not continue an X entity turned into B-X (spaCy refuses them)."""
    repaired, previous = [], "O"
    for tag in tags:
        if orphan_inside(previous, tag):
            tag = "B-" + tag[2:]
        repaired.append(tag)
        previous = tag
    return repaired


def timed(function, *args):
    """(result, seconds) of a call."""
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def score(gold: list[list[str]], pred: list[list[str]], labels: list[str]) -> dict[str, float]:
    """Micro (seqeval) and the notebook's weighted entity F1 of string tag sequences."""
    label2id = {label: i for i, label in enumerate(labels)}
    id2label = dict(enumerate(labels))
    gold_ids = [[label2id[t] for t in s] for s in gold]
    pred_ids = [[label2id.get(t, 0) for t in s] for s in pred]
    weighted = compute_entity_f1(gold_ids, pred_ids, id2label=id2label)
    return {"micro": seqeval_scores(gold, pred)["entity_f1_micro"], "weighted": weighted}
