"""Tag schemes: BIOES encoding of BIO labels, its constraints, decoding back to BIO, and the span
probabilities of a BIOES chain checked against enumerating every path."""

import itertools

import numpy as np
import pytest
import torch

from ner.data_processing.batch import Batch
from ner.data_processing.constants import DEFAULT_LABELS, LABEL_IGNORE_IDX
from ner.models.ner_predictor import NERPredictor
from ner.nn.heads.crf import CRF
from ner.nn.heads.tag_encoding import encode_labels
from ner.nn.tags.chain import chains
from ner.nn.tags.schemes import BIO, BIOES
from ner.utils.spans import orphan_inside, tag_spans

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def ids(tags, labels=LABELS):
    return [labels.index(t) for t in tags]


def test_bioes_tags_of_the_default_labels():
    scheme = BIOES(DEFAULT_LABELS)
    assert len(scheme.labels) == 17 and scheme.labels[:5] == ["O", "B-ORG", "I-ORG", "E-ORG", "S-ORG"]
    assert [DEFAULT_LABELS[i] for i in scheme.to_bio][:5] == [
        "O",
        "B-ORG",
        "I-ORG",
        "I-ORG",
        "B-ORG",
    ]


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_bioes_encoding(padding_side):
    scheme = BIOES(LABELS)
    bio = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-PER", "O", "I-LOC"]
    expected = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC", "S-PER", "O", "S-LOC"]
    row = ids(bio)
    pad = [LABEL_IGNORE_IDX] * 3
    row = row + pad if padding_side == "right" else pad + row
    encoded = encode_labels(scheme, torch.tensor([row, [LABEL_IGNORE_IDX] * len(row)]))
    real = encoded[0][encoded[0] != LABEL_IGNORE_IDX].tolist()
    assert [scheme.labels[i] for i in real] == expected
    assert (encoded[1] == LABEL_IGNORE_IDX).all()


def test_bio_encoding_leaves_labels_alone():
    labels = torch.tensor([ids(["I-PER", "O", "B-LOC"]) + [LABEL_IGNORE_IDX]])
    assert torch.equal(encode_labels(BIO(LABELS), labels), labels)


def test_bioes_round_trip_gives_the_entities_back():
    scheme = BIOES(LABELS)
    rng = np.random.default_rng(0)
    for _ in range(200):
        bio = [LABELS[i] for i in rng.integers(0, len(LABELS), size=8)]
        encoded = encode_labels(scheme, torch.tensor([ids(bio)]))
        allowed, start, end = scheme.transition_masks()
        path = encoded[0].tolist()
        assert start[path[0]] and end[path[-1]]
        assert all(allowed[a, b] for a, b in itertools.pairwise(path))
        back = [LABELS[scheme.to_bio[i]] for i in encoded[0].tolist()]
        repaired = [
            f"B-{t[2:]}" if orphan_inside(p, t) else t for p, t in zip(["O", *bio], bio, strict=False)
        ]
        assert tag_spans(back) == tag_spans(repaired)


def test_bioes_constraints():
    scheme = BIOES(LABELS)
    allowed, start, end = scheme.transition_masks()
    i = scheme.index
    assert allowed[i["B-PER"], i["I-PER"]] and allowed[i["B-PER"], i["E-PER"]]
    assert not allowed[i["B-PER"], i["O"]] and not allowed[i["I-PER"], i["E-LOC"]]
    assert allowed[i["E-PER"], i["S-LOC"]] and not allowed[i["S-PER"], i["I-PER"]]
    assert start[i["S-PER"]] and not start[i["E-PER"]] and not end[i["B-LOC"]] and end[i["E-LOC"]]


def test_bioes_viterbi_reads_back_as_valid_bio():
    torch.manual_seed(0)
    crf = CRF(LABELS, "bioes")
    scheme = BIOES(LABELS)
    emissions = torch.randn(4, 7, len(scheme.labels)) * 3
    paths = crf.viterbi(emissions, torch.ones(4, 7, dtype=torch.bool))
    allowed, start, end = scheme.transition_masks()
    for path in paths.tolist():
        assert start[path[0]] and end[path[-1]]
        assert all(allowed[a, b] for a, b in itertools.pairwise(path))


def test_bioes_span_probability_matches_enumeration():
    torch.manual_seed(1)
    scheme = BIOES(["O", "B-PER", "I-PER"])
    crf = CRF(["O", "B-PER", "I-PER"], "bioes")
    with torch.no_grad():
        crf.transitions.normal_()
    transitions, start, end = (x.detach() for x in crf._scores())
    n, size = 4, len(scheme.labels)
    emissions = torch.randn(1, n, size)
    chain = chains(emissions, transitions, start, end, [n])[0]
    paths = list(itertools.product(range(size), repeat=n))
    e, t, s, f = chain.emissions, chain.transitions, chain.start, chain.end
    scores = np.array(
        [
            s[p[0]]
            + f[p[-1]]
            + sum(e[k, y] for k, y in enumerate(p))
            + sum(t[a, b] for a, b in itertools.pairwise(p))
            for p in paths
        ]
    )
    probs = np.exp(scores - np.logaddexp.reduce(scores))
    for first, last in [(a, b) for a in range(n) for b in range(a, n)]:
        exact = sum(
            p
            for path, p in zip(paths, probs, strict=True)
            if ("PER", first, last) in tag_spans([scheme.bio_labels[scheme.to_bio[i]] for i in path])
        )
        got = chain.span_probability(first, *scheme.span_tags("PER", last - first + 1))
        assert got == pytest.approx(exact, abs=1e-5)


@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_a_bioes_tagger_learns_and_decodes_bio_ids(head):
    torch.manual_seed(0)
    model = NERPredictor(
        vocab_size=6,
        embedding_dim=8,
        padding_idx=0,
        hidden_dim=16,
        output_dim=5,
        model="lstm",
        bidirectional=True,
        head=head,
        tag_scheme="bioes",
        labels=LABELS,
    )
    input_ids = torch.tensor([[2, 3, 4, 5, 0], [4, 5, 2, 3, 3]])
    labels = torch.tensor(
        [
            ids(["B-PER", "I-PER", "B-LOC", "I-LOC"]) + [LABEL_IGNORE_IDX],
            ids(["B-LOC", "I-LOC", "B-PER", "I-PER", "I-PER"]),
        ]
    )
    batch = Batch(input_ids, (input_ids == 0).long())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        model.loss(model(batch), labels, batch.mask).backward()
        optimizer.step()
    model.eval()
    scores = model(batch)
    assert scores.shape[-1] == 9
    decoded = model.decode(scores, batch.mask)
    assert torch.equal(torch.where(labels == LABEL_IGNORE_IDX, 0, decoded), labels.clamp(min=0))
