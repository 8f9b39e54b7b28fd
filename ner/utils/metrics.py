"""Loss and tagging metrics: token-level, the notebook's weighted entity F1, and seqeval's micro F1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from seqeval.metrics.sequence_labeling import precision_recall_fscore_support as seqeval_prf
from sklearn.metrics import precision_recall_fscore_support

from ner.data_processing.constants import LABEL_IGNORE_IDX, NER_DECODING_MAP
from ner.utils.spans import get_named_entity_spans, listed_types

METRIC_NAMES = (
    "precision",
    "recall",
    "f1",
    "accuracy",
    "entity_f1",
    "entity_precision_micro",
    "entity_recall_micro",
    "entity_f1_micro",
)


def compute_loss(loss_fn: torch.nn.Module, preds: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Loss of (batch, length, classes) logits against (batch, length) labels."""
    return loss_fn(preds.reshape(-1, preds.shape[-1]), labels.reshape(-1))


def _safe_div(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def entity_scores(
    gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], id2label: dict[int, str]
) -> dict[str, dict[str, float]]:
    """Per entity type precision, recall, F1 and gold support over exact spans."""
    counts = {t: [0, 0, 0] for t in listed_types(id2label)}
    for gold_seq, pred_seq in zip(gold, pred, strict=True):
        gold_spans = get_named_entity_spans(gold_seq, id2label=id2label)
        pred_spans = get_named_entity_spans(pred_seq, id2label=id2label)
        for etype in set(gold_spans) | set(pred_spans):
            g, p = set(gold_spans.get(etype, [])), set(pred_spans.get(etype, []))
            count_matches(counts.setdefault(etype, [0, 0, 0]), g, p)
    return {etype: prf(*tp_fp_fn) for etype, tp_fp_fn in counts.items()}


def count_matches(tp_fp_fn: list[int], gold: set, pred: set) -> None:
    """Add the true positives, false positives and false negatives of one set of spans."""
    tp_fp_fn[0] += len(gold & pred)
    tp_fp_fn[1] += len(pred - gold)
    tp_fp_fn[2] += len(gold - pred)


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall, F1 and gold support from match counts."""
    precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _safe_div(2 * precision * recall, precision + recall),
        "support": tp + fn,
    }


def character_span_scores(
    gold: Sequence[set[tuple[int, int, str]]], pred: Sequence[set[tuple[int, int, str]]]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Micro and per-type precision, recall and F1 of exact character spans (start, end, type), each
    document's gold spans against its predicted ones."""
    counts: dict[str, list[int]] = {}
    for gold_spans, pred_spans in zip(gold, pred, strict=True):
        for etype in {t for *_, t in gold_spans} | {t for *_, t in pred_spans}:
            g = {s for s in gold_spans if s[2] == etype}
            p = {s for s in pred_spans if s[2] == etype}
            count_matches(counts.setdefault(etype, [0, 0, 0]), g, p)
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    micro = {f"span_{k}_micro": v for k, v in prf(*total).items() if k != "support"}
    return micro, {etype: prf(*counts[etype]) for etype in sorted(counts)}


def compute_entity_f1(
    labels: Sequence[Sequence[int]] | torch.Tensor,
    preds: Sequence[Sequence[int]] | torch.Tensor,
    padding_mask: torch.Tensor | None = None,
    id2label: dict[int, str] | None = None,
    average: str = "weighted",
) -> float:
    """Entity F1 over exact spans per type, averaged weighted by gold support (or macro/micro)."""
    id2label = NER_DECODING_MAP if id2label is None else id2label
    gold, pred = _to_sequences(labels, preds, padding_mask)
    scores = entity_scores(gold, pred, id2label)
    if average == "micro":
        raise ValueError("use seqeval_scores for micro entity scores")
    supports = np.array([s["support"] for s in scores.values()], dtype=float)
    f1s = np.array([s["f1"] for s in scores.values()])
    if average == "macro":
        return float(f1s.mean()) if len(f1s) else 0.0
    return float((f1s * supports).sum() / supports.sum()) if supports.sum() else 0.0


def seqeval_scores(gold_tags: list[list[str]], pred_tags: list[list[str]]) -> dict[str, float]:
    """Micro entity precision, recall and F1 as seqeval computes them."""
    precision, recall, f1, _ = seqeval_prf(gold_tags, pred_tags, average="micro", zero_division=0)
    return {
        "entity_precision_micro": float(precision),
        "entity_recall_micro": float(recall),
        "entity_f1_micro": float(f1),
    }


def token_scores(
    gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], other_idx: int | None, average: str
) -> dict[str, float]:
    """Token precision, recall, F1 and accuracy over tokens whose gold tag is not O."""
    gold_flat = np.fromiter((t for seq in gold for t in seq), dtype=np.int64)
    pred_flat = np.fromiter((t for seq in pred for t in seq), dtype=np.int64)
    keep = gold_flat != LABEL_IGNORE_IDX
    if other_idx is not None:
        keep &= gold_flat != other_idx
    gold_flat, pred_flat = gold_flat[keep], pred_flat[keep]
    if gold_flat.size == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 0.0}
    precision, recall, f1, _ = precision_recall_fscore_support(
        gold_flat, pred_flat, average=average, zero_division=0
    )
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "accuracy": float((gold_flat == pred_flat).mean()),
    }


def sequence_metrics(
    gold: Sequence[Sequence[int]],
    pred: Sequence[Sequence[int]],
    id2label: dict[int, str] | None = None,
    average: str = "weighted",
    other_idx: int | None | str = "auto",
) -> dict[str, float]:
    """All metrics over whole unpadded sequences of tag ids: token (O excluded), weighted and micro entity."""
    id2label = NER_DECODING_MAP if id2label is None else id2label
    if other_idx == "auto":
        other_idx = {label: idx for idx, label in id2label.items()}.get("O")
    metrics = token_scores(gold, pred, other_idx, average)
    metrics["entity_f1"] = compute_entity_f1(gold, pred, id2label=id2label)
    gold_tags = [[id2label[int(t)] for t in seq] for seq in gold]
    pred_tags = [[id2label.get(int(t), "O") for t in seq] for seq in pred]
    metrics.update(seqeval_scores(gold_tags, pred_tags))
    return metrics


def _to_sequences(
    labels: Sequence[Sequence[int]] | torch.Tensor,
    preds: Sequence[Sequence[int]] | torch.Tensor,
    padding_mask: torch.Tensor | None = None,
    ignore_idx: int = LABEL_IGNORE_IDX,
) -> tuple[list[list[int]], list[list[int]]]:
    """Unpadded per-sentence lists of gold and predicted ids (logits are arg-maxed)."""
    if (
        isinstance(preds, torch.Tensor)
        and isinstance(labels, torch.Tensor)
        and preds.dim() == labels.dim() + 1
    ):
        preds = preds.argmax(dim=-1)
    if not isinstance(labels, torch.Tensor):
        return [list(map(int, s)) for s in labels], [list(map(int, s)) for s in preds]
    labels, preds = labels.detach().cpu(), torch.as_tensor(preds).detach().cpu()
    if labels.dim() == 1:
        labels, preds = labels.unsqueeze(0), preds.unsqueeze(0)
        padding_mask = None if padding_mask is None else padding_mask.reshape(1, -1)
    keep = labels != ignore_idx
    if padding_mask is not None:
        keep &= padding_mask.detach().cpu() == 0
    gold_seqs = [row[mask].tolist() for row, mask in zip(labels, keep, strict=True)]
    pred_seqs = [row[mask].tolist() for row, mask in zip(preds, keep, strict=True)]
    return gold_seqs, pred_seqs


def compute_metrics(
    preds: torch.Tensor,
    labels: torch.Tensor,
    padding_mask: torch.Tensor | None = None,
    labels_ignore_idx: int | None = None,
    other_ner_tag_idx: int | None = None,
    average: str = "weighted",
    id2label: dict[int, str] | None = None,
) -> dict[str, float]:
    """Metrics of a batch of predictions (ids or logits) against labels; token scores leave out padding,
    `labels_ignore_idx` and, when given, the O tag `other_ner_tag_idx`."""
    ignore_idx = LABEL_IGNORE_IDX if labels_ignore_idx is None else labels_ignore_idx
    gold, pred = _to_sequences(labels, preds, padding_mask, ignore_idx)
    return sequence_metrics(gold, pred, id2label, average, other_ner_tag_idx)
