import itertools

import pytest
import torch

from ner.data_processing.constants import DEFAULT_LABELS
from ner.nn.heads.crf import CRF
from ner.nn.tags.schemes import BIO

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def brute_force(crf, emissions, length):
    """Every tag sequence of one sentence with its score."""
    transitions, start, end = crf._scores()
    scored = []
    for tags in itertools.product(range(len(LABELS)), repeat=length):
        score = start[tags[0]] + emissions[0, tags[0]]
        for t in range(1, length):
            score = score + transitions[tags[t - 1], tags[t]] + emissions[t, tags[t]]
        scored.append((float(score + end[tags[-1]]), tags))
    return scored


@pytest.fixture
def crf():
    torch.manual_seed(0)
    model = CRF(LABELS)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return model


@pytest.mark.parametrize("side", ["right", "left"])
def test_loss_and_viterbi_match_brute_force(crf, side):
    torch.manual_seed(1)
    lengths, width = [3, 1, 4], 4
    emissions = torch.randn(3, width, len(LABELS))
    mask = torch.zeros(3, width, dtype=torch.bool)
    for b, n in enumerate(lengths):
        if side == "right":
            mask[b, :n] = True
        else:
            mask[b, width - n :] = True
    tags = torch.full((3, width), -100)
    decoded = crf.viterbi(emissions, mask)
    nll_total = 0.0
    generator = torch.Generator().manual_seed(3)
    for b, n in enumerate(lengths):
        positions = mask[b].nonzero().squeeze(1)
        with torch.no_grad():
            scored = brute_force(crf, emissions[b, positions], n)
        valid = [(s, t) for s, t in scored if s > -1000]
        gold_score, gold = valid[int(torch.randint(len(valid), (1,), generator=generator))]
        tags[b, positions] = torch.tensor(gold)
        log_z = torch.logsumexp(torch.tensor([s for s, _ in scored]), 0)
        nll_total += float(log_z) - gold_score
        assert tuple(decoded[b, positions].tolist()) == max(scored)[1]
        assert (decoded[b, ~mask[b]] == 0).all()
    assert float(crf.nll(emissions, tags, mask)) == pytest.approx(nll_total, rel=1e-4)


def test_decoding_never_breaks_bio(crf):
    torch.manual_seed(2)
    emissions = torch.randn(20, 6, len(LABELS)) * 5
    mask = torch.ones(20, 6, dtype=torch.bool)
    for row in crf.viterbi(emissions, mask).tolist():
        previous = "O"
        for tag in (LABELS[i] for i in row):
            if tag.startswith("I-"):
                assert previous[2:] == tag[2:]
            previous = tag


def test_transition_mask_of_the_default_labels():
    allowed, start, end = BIO(DEFAULT_LABELS).transition_masks()
    index = {t: i for i, t in enumerate(DEFAULT_LABELS)}
    assert allowed[index["B-PER"], index["I-PER"]] and allowed[index["I-PER"], index["I-PER"]]
    assert not allowed[index["O"], index["I-PER"]] and not allowed[index["B-LOC"], index["I-PER"]]
    assert allowed[index["I-PER"], index["B-PER"]] and not start[index["I-ORG"]] and start[index["B-ORG"]]
    assert end.all()


def test_loss_is_differentiable(crf):
    emissions = torch.randn(2, 3, len(LABELS), requires_grad=True)
    loss = crf.nll(emissions, torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3, dtype=torch.bool))
    loss.backward()
    assert emissions.grad is not None and crf.transitions.grad is not None


def test_orphan_inside_tags_in_gold_are_repaired_not_penalised():
    crf = CRF(LABELS)
    tags = torch.tensor([[2, 2, 0, 4, 1, 4]])  # I-PER at start, I-LOC after O, I-LOC after B-PER
    assert crf.repair(tags).tolist() == [[1, 2, 0, 3, 1, 3]]
    emissions = torch.zeros(1, 6, len(LABELS))
    assert float(crf.nll(emissions, tags, torch.ones(1, 6, dtype=torch.bool))) < 20


@pytest.mark.parametrize("side", ["right", "left"])
def test_head_marginals_are_the_brute_force_marginals_and_differentiable(side):
    from ner.nn.heads.crf import CRFHead

    torch.manual_seed(2)
    head = CRFHead(4, LABELS)
    with torch.no_grad():
        for p in head.crf.parameters():
            p.normal_()
    lengths, width = [3, 2], 3
    scores = torch.randn(2, width, len(LABELS), requires_grad=True)
    mask = torch.zeros(2, width, dtype=torch.bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True if side == "right" else False
        if side == "left":
            mask[b, width - n :] = True
    marginals = head.marginals(scores, mask)
    for b, n in enumerate(lengths):
        positions = mask[b].nonzero().squeeze(1)
        with torch.no_grad():
            scored = brute_force(head.crf, scores[b, positions], n)
        weights = torch.softmax(torch.tensor([s for s, _ in scored], dtype=torch.float64), 0)
        expected = torch.zeros(n, len(LABELS), dtype=torch.float64)
        for w, (_, tags) in zip(weights, scored, strict=True):
            expected[torch.arange(n), torch.tensor(tags)] += w
        assert torch.allclose(marginals[b, positions].double(), expected, atol=1e-5)
    (marginals[mask][:, 1].sum()).backward()
    assert scores.grad is not None and scores.grad.abs().sum() > 0
