"""A tagger's network in a form `torch.onnx.export` traces for any batch size and sentence length: each
part in its export form (its module's `export_form`; most parts are their own), token inputs by name in,
emissions out. Forms compute what the parts compute, without packed sequences or data-dependent
shapes: masks instead."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ner.data_processing.batch import Batch
from ner.models.ner_predictor import PART_ATTRIBUTES, NERPredictor
from ner.nn.parts import PARTS, part_of
from ner.utils.errors import NerError


def export_form(model: NERPredictor, slot: str) -> nn.Module:
    """The export form of one of a tagger's parts; a NerError naming its setting if it has none."""
    settings = getattr(model.settings, slot)
    if not part_of(slot, settings).exportable:
        raise NerError(
            f"model.{slot} {settings.name!r} has no ONNX export path; exportable parts: {exportable()}"
        )
    return getattr(model, PART_ATTRIBUTES[slot]).export_form()


def exportable() -> str:
    """The parts with an export form, by slot."""
    return "; ".join(
        f"{slot} {'/'.join(name for name, part in parts.items() if part.exportable)}"
        for slot, parts in PARTS.items()
    )


class ExportGraph(nn.Module):
    """A copy of a NERPredictor with each part in its export form, reading named tensors: `inputs` (in
    that order) in, the tagger's own `forward` on them, emissions out."""

    def __init__(self, model: NERPredictor):
        super().__init__()
        if not isinstance(model, NERPredictor):
            raise NerError(f"{type(model).__name__} (a bare network of the notebook) has no ONNX export path")
        self.tagger = copy.deepcopy(model).eval()
        self.tagger.embedding = self.tagger.embedding.export_form()
        for slot, attribute in PART_ATTRIBUTES.items():
            if getattr(self.tagger, attribute) is not None:
                setattr(self.tagger, attribute, export_form(self.tagger, slot))
        self.inputs = ["input_ids", "padding_mask", *model.settings.inputs()]

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """(batch, length, scheme tags) emissions of the inputs named by `inputs`, in that order."""
        return self.tagger(Batch(**dict(zip(self.inputs, tensors, strict=True))))
