"""Tagging token lists with a model: length-sorted batches, a precision checked against the CPU, and
the model's own decoding."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ner.data_processing.constants import LABEL_IGNORE_IDX
from ner.data_processing.data_collator import DataCollator
from ner.data_processing.dataset import as_examples
from ner.inference.precision import autocast, fall_back, probe
from ner.models.forward import decode, forward_model
from ner.nn.heads.chain import Chain, chains
from ner.nn.heads.crf import left_align
from ner.utils.spans import get_named_entity_spans
from ner.utils.utils import resolve_device


def probe_precision(
    model: nn.Module, data_collator: DataCollator, examples: list[dict], device: torch.device, precision: str
) -> str:
    """The precision to predict in (see `precision.probe`), probed on a real batch and on its first
    sentence repeated (sequences of one length take other kernels)."""
    batches = [data_collator(examples), data_collator(examples[:1] * len(examples))]
    batches = [{k: v.to(device) for k, v in b.items() if k != "labels"} for b in batches]
    forwards = [lambda b=b: forward_model(model, b) for b in batches]
    return probe(model, forwards, device, precision)


def length_sorted_batches(examples: list[dict], text_colname: str, batch_size: int) -> list[list[int]]:
    """Indices in batches of similar length, for fast evaluation; order is restored afterwards."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][text_colname]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def scored_batches(
    examples: list[dict],
    data_collator: DataCollator,
    model: nn.Module,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
    precision: str = "float32",
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(example indices, float32 scores, real-token mask) of each length-sorted batch; `precision`
    bfloat16 runs the network's matrix products in bfloat16 where this CPU runs the model's kernels in
    it faster than in float32, else float32 (see `precision.probe`)."""
    device = resolve_device(device)
    model = model.to(device).eval()
    batches = length_sorted_batches(examples, data_collator.text_colname, batch_size)
    if batches and precision != "float32":
        precision = probe_precision(
            model, data_collator, [examples[i] for i in batches[len(batches) // 2]], device, precision
        )
    for indices in batches:
        batch = data_collator([examples[i] for i in indices])
        batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
        try:
            with autocast(device, precision):
                logits = forward_model(model, batch)
        except RuntimeError as err:
            if precision == "float32":
                raise
            precision = fall_back(model, device, precision, err)
            logits = forward_model(model, batch)
        yield indices, logits.float(), batch["padding_mask"]


@torch.inference_mode()
def predict_ids(
    examples: list[dict],
    data_collator: DataCollator,
    model: nn.Module,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
    precision: str = "float32",
) -> list[list[int]]:
    """Predicted tag ids of each example (in input order), never truncated, by the model's decoding."""
    predictions: list[list[int]] = [[] for _ in examples]
    for indices, scores, padding_mask in scored_batches(
        examples, data_collator, model, batch_size, device, precision
    ):
        preds = decode(model, scores, padding_mask).cpu()
        for row, i in enumerate(indices):
            predictions[i] = preds[row][padding_mask[row].cpu() == 0].tolist()
    return predictions


@torch.inference_mode()
def predict_chains(
    examples: list[dict],
    data_collator: DataCollator,
    model: nn.Module,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
    precision: str = "float32",
) -> list[tuple[list[int], Chain]]:
    """Predicted tag ids of each example (in input order) with the tag chain they were decoded from,
    for span probabilities and k-best paths."""
    predictions: list[tuple[list[int], Chain]] = [([], None) for _ in examples]
    for indices, scores, padding_mask in scored_batches(
        examples, data_collator, model, batch_size, device, precision
    ):
        preds = decode(model, scores, padding_mask)
        real = padding_mask == 0
        order = left_align(real)
        emissions, transitions, start, end = model.potentials(scores)
        emissions = emissions.gather(1, order.unsqueeze(-1).expand_as(emissions))
        preds = preds.gather(1, order).cpu()
        lengths = real.sum(dim=1).tolist()
        for row, (i, chain) in enumerate(
            zip(indices, chains(emissions, transitions, start, end, lengths), strict=True)
        ):
            predictions[i] = (preds[row, : lengths[row]].tolist(), chain)
    return predictions


def predict_spans(
    test_data: object,
    data_collator: DataCollator,
    model: nn.Module,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    index_colname: str = "index",
    precision: str = "float32",
) -> dict[str, list[str]]:
    """Predicted entity spans of a test split, as 'start-end' strings in its index numbering."""
    examples = as_examples(test_data, [data_collator.text_colname, index_colname])
    id2label = {v: k for k, v in data_collator.label2id.items() if v != LABEL_IGNORE_IDX}
    predictions = predict_ids(examples, data_collator, model, batch_size, device, precision)
    spans: dict[str, list[str]] = {}
    for example, tag_ids in zip(examples, predictions, strict=True):
        found = get_named_entity_spans(tag_ids, [int(i) for i in example[index_colname]], id2label)
        for etype, etype_spans in found.items():
            spans.setdefault(etype, []).extend(f"{s}-{e}" for s, e in etype_spans)
    return spans
