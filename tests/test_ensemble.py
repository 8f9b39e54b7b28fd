import itertools

import pytest
import torch

from ner.data_processing.constants import DEFAULT_LABELS
from ner.models.ner_predictor import NERPredictor
from ner.nn.heads.crf import CRF


def ensemble(head="crf", members=3):
    torch.manual_seed(0)
    return NERPredictor(12, 6, 0, 5, 9, model="lstm", bidirectional=True, head=head, members=members).eval()


def path_score(crf, emissions, tags):
    transitions, start, end = crf._scores()
    score = start[tags[0]] + end[tags[-1]] + sum(emissions[t, tag] for t, tag in enumerate(tags))
    return score + sum(transitions[a, b] for a, b in itertools.pairwise(tags))


def test_members_are_independent_copies_of_the_architecture():
    model = ensemble()
    single = NERPredictor(12, 6, 0, 5, 9, model="lstm", bidirectional=True, head="crf")
    assert model.num_params() == 3 * single.num_params()
    assert {k.split(".", 2)[2] for k in model.state_dict()} == set(single.state_dict())
    first, second = (m.embedding.embedding.weight for m in model.members[:2])
    assert not torch.equal(first, second)
    assert type(model).__name__ == "Ensemble" and model.uses_chars is False
    assert model.takes_class_weights is False


def test_crf_ensemble_decodes_the_path_of_highest_mean_member_score():
    model = ensemble()
    with torch.no_grad():
        for member in model.members:
            for p in member.head.crf.parameters():
                p.normal_()
    ids = torch.tensor([[3, 4, 5], [6, 7, 0]])
    mask = (ids == 0).long()
    with torch.no_grad():
        scores = model(ids, mask)
    assert scores.shape == (3, 2, 3, 9)
    decoded = model.decode(scores, mask)
    for row, length in enumerate((3, 2)):
        best = max(
            itertools.product(range(9), repeat=length),
            key=lambda tags: sum(
                float(path_score(m.head.crf, scores[i, row], tags)) for i, m in enumerate(model.members)
            ),
        )
        assert tuple(decoded[row, :length].tolist()) == best


def test_softmax_ensemble_averages_log_probabilities():
    model = ensemble(head="softmax", members=2)
    ids = torch.tensor([[3, 4, 5]])
    scores = model(ids)
    expected = (scores.log_softmax(-1).sum(0)).argmax(-1)
    assert torch.equal(model.decode(scores, torch.zeros_like(ids)), expected)


def test_each_member_learns_from_its_own_loss():
    model = ensemble(members=2).train()
    ids, labels = torch.tensor([[3, 4, 5]]), torch.tensor([[1, 2, 0]])
    mask = torch.zeros_like(ids)
    model.loss(model(ids, mask), labels).backward()
    joint = [p.grad.clone() for p in model.members[1].parameters()]
    model.zero_grad()
    member = model.members[1]
    member.loss(member(ids, mask), labels).backward()
    assert all(torch.allclose(a, p.grad, atol=1e-6) for a, p in zip(joint, member.parameters(), strict=True))


def test_averaged_crf_and_saved_ensemble_round_trip(tmp_path):
    model = ensemble(members=2)
    averaged = CRF.average([m.head.crf for m in model.members])
    assert averaged.config["labels"] == list(DEFAULT_LABELS)
    model.save_pretrained(tmp_path / "ensemble.safetensors")
    loaded = NERPredictor.from_pretrained(tmp_path / "ensemble.safetensors").eval()
    ids = torch.tensor([[3, 4, 5]])
    assert torch.equal(loaded(ids), model(ids))
    with pytest.raises(ValueError, match="members"):
        NERPredictor(12, 6, 0, 5, 9, members=0)


def test_folded_members_share_one_embedding_across_case_forms():
    torch.manual_seed(0)
    model = NERPredictor(6, 4, 0, 5, 9, model="lstm", members=2, word_case="mixed").eval()
    model.set_word_lookup([0, 1, 2, 2, 4, 4])
    cased, folded = model.members
    assert not hasattr(cased, "word_lookup") and folded.word_lookup.tolist() == [0, 1, 2, 2, 4, 4]
    with torch.no_grad():
        upper, title = model(torch.tensor([[3, 5]])), model(torch.tensor([[2, 4]]))
    assert torch.equal(upper[1], title[1]) and not torch.equal(upper[0], title[0])
    with pytest.raises(ValueError, match="word_case"):
        NERPredictor(6, 4, 0, 5, 9, word_case="mixed")


def test_folded_members_read_the_rarest_words_as_unknown_and_cased_members_read_them_all():
    torch.manual_seed(0)
    model = NERPredictor(12, 4, 0, 5, 9, model="lstm", members=2, word_case="mixed", rare_word_frac=0.3)
    model.set_word_lookup([0, 1, 2, 2, 4, 5, 6, 7, 8, 9, 4, 11])
    cased, folded = model.members
    assert folded.word_lookup.tolist() == [0, 1, 2, 2, 4, 5, 6, 7, 8, 1, 4, 1]
    assert not hasattr(cased, "word_lookup")
    with torch.no_grad():
        rare, unknown = model(torch.tensor([[11, 9]])), model(torch.tensor([[1, 1]]))
    assert torch.equal(rare[1], unknown[1]) and not torch.equal(rare[0], unknown[0])
    for frac, case in ((0.3, "cased"), (1.0, "folded")):
        with pytest.raises(ValueError, match="rare_word_frac"):
            NERPredictor(6, 4, 0, 5, 9, word_case=case, rare_word_frac=frac)
