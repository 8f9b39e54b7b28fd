import pytest
import torch
from seqeval.metrics import f1_score, precision_score, recall_score

from ner.data_processing.constants import NER_DECODING_MAP, NER_ENCODING_MAP
from ner.utils.metrics import (
    compute_entity_f1,
    compute_loss,
    compute_metrics,
    entity_scores,
    sequence_metrics,
)

E = NER_ENCODING_MAP


def ids(*tags):
    return [E[t] for t in tags]


GOLD = [ids("B-PER", "I-PER", "O", "B-LOC"), ids("O", "B-ORG", "O"), ids("B-PER", "O")]
PRED = [ids("B-PER", "I-PER", "O", "B-ORG"), ids("O", "B-ORG", "O"), ids("B-PER", "I-PER")]


def test_entity_scores_by_hand():
    scores = entity_scores(GOLD, PRED, NER_DECODING_MAP)
    # PER: gold {(0,1)}, {(0,0)}; pred {(0,1)}, {(0,1)} -> tp 1, fp 1, fn 1.
    assert scores["PER"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert scores["LOC"]["f1"] == 0.0 and scores["LOC"]["support"] == 1
    assert scores["ORG"]["precision"] == 0.5 and scores["ORG"]["recall"] == 1.0


def test_weighted_entity_f1_by_hand():
    # PER f1 0.5 (support 2), LOC 0 (1), ORG 2/3 (1), MISC no support.
    expected = (0.5 * 2 + 0.0 * 1 + (2 / 3) * 1) / 4
    assert compute_entity_f1(GOLD, PRED) == pytest.approx(expected)


def test_micro_scores_match_seqeval():
    to_tags = lambda seqs: [[NER_DECODING_MAP[i] for i in s] for s in seqs]  # noqa: E731
    metrics = sequence_metrics(GOLD, PRED)
    assert metrics["entity_f1_micro"] == pytest.approx(f1_score(to_tags(GOLD), to_tags(PRED)))
    assert metrics["entity_precision_micro"] == pytest.approx(precision_score(to_tags(GOLD), to_tags(PRED)))
    assert metrics["entity_recall_micro"] == pytest.approx(recall_score(to_tags(GOLD), to_tags(PRED)))


def test_token_scores_leave_out_o_and_padding():
    labels = torch.tensor([[3, 4, 0, -100], [5, 0, 0, -100]])
    preds = torch.tensor([[3, 0, 0, 5], [5, 1, 0, 5]])
    mask = (labels == -100).long()
    metrics = compute_metrics(preds, labels, mask, other_ner_tag_idx=0)
    # Non-O gold tokens: 3 (right), 4 (wrong), 5 (right).
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)


def test_compute_metrics_accepts_logits():
    labels = torch.tensor([[3, 4, 0]])
    logits = torch.nn.functional.one_hot(labels, 9).float()
    metrics = compute_metrics(logits, labels)
    assert metrics["entity_f1"] == 1.0 and metrics["accuracy"] == 1.0


def test_no_entities_gives_zero_not_nan():
    metrics = sequence_metrics([ids("O", "O")], [ids("O", "O")])
    assert metrics["entity_f1"] == 0.0 and metrics["precision"] == 0.0


def test_compute_loss_ignores_padding():
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    logits = torch.zeros(1, 3, 9)
    logits[0, 0, 3] = 100.0
    loss = compute_loss(loss_fn, logits, torch.tensor([[3, -100, -100]]))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
