"""A tagger's network in a form `torch.onnx.export` traces for any batch size and sentence length: each
part in its export form (a registry by part class; most parts are their own), token inputs by name in,
emissions out. Forms compute what the parts compute, without packed sequences or data-dependent
shapes: masks instead."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ner.data_processing.batch import Batch
from ner.models.ner_predictor import NERPredictor
from ner.nn.embeddings.casing_embedding import CasingEmbedding
from ner.nn.embeddings.char_cnn import CharCNN
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.embeddings.transformer import TransformerEmbedding
from ner.nn.heads.crf import CRFHead
from ner.nn.heads.softmax import SoftmaxHead
from ner.nn.models.ffnn import FFNN
from ner.nn.models.passthrough import PassThrough
from ner.nn.models.recurrent import PackedRecurrent
from ner.utils.errors import NerError


class WordLookup(nn.Module):
    """The word embedding with its vocabulary extension as one matrix: id i reads row i."""

    def __init__(self, part: TokenEmbedding):
        super().__init__()
        self.weight = nn.Parameter(torch.cat([part.embedding.weight, part.extension]).detach())

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(input_ids, self.weight)


class ScatteredPieces(nn.Module):
    """The transformer with its pieces pooled into words by a scatter-add into the token grid plus one
    spare row that takes special tokens and padding (the part selects pieces by a boolean mask)."""

    def __init__(self, part: TransformerEmbedding):
        super().__init__()
        self.encoder, self.pad_id, self.pooling = part.encoder, part.pad_id, part.pooling
        # Eager attention: plain matrix products and a softmax, which trace into standard ONNX operators.
        self.encoder.set_attn_implementation("eager")

    def forward(
        self, piece_ids: torch.Tensor, piece_word: torch.Tensor, grid: tuple[int, int]
    ) -> torch.Tensor:
        hidden = self.encoder(input_ids=piece_ids, attention_mask=piece_ids != self.pad_id).last_hidden_state
        size = hidden.shape[-1]
        hidden = hidden.reshape(-1, size)
        owner = piece_word.reshape(-1)
        keep = owner >= 0
        if self.pooling == "first":
            keep = keep & (owner != torch.cat([owner.new_full((1,), -1), owner[:-1]]))
        cells = grid[0] * grid[1]
        target = torch.where(keep, owner, torch.full_like(owner, cells))
        words = hidden.new_zeros(cells + 1, size).scatter_add(0, target.unsqueeze(1).expand(-1, size), hidden)
        if self.pooling == "mean":
            counts = hidden.new_zeros(cells + 1).scatter_add(0, target, hidden.new_ones(target.shape[0]))
            words = words / counts.clamp(min=1).unsqueeze(-1)
        return words[:cells].reshape(grid[0], grid[1], size)


class MaskedRecurrent(nn.Module):
    """A recurrent encoder run on right-padded sentences without packing: each layer's forward cell reads
    the sentence as padded (padding comes after every real token), its backward cell reads each sentence
    reversed within its own length, its states put back in place; padding positions are zero."""

    def __init__(self, part: PackedRecurrent):
        super().__init__()
        source = part.encoder
        self.layers = nn.ModuleList()
        for layer in range(source.num_layers):
            directions = nn.ModuleList()
            for suffix in ("", "_reverse")[: 2 if source.bidirectional else 1]:
                cell = type(source)(
                    source.input_size
                    if layer == 0
                    else source.hidden_size * (2 if source.bidirectional else 1),
                    source.hidden_size,
                    batch_first=True,
                    **({"nonlinearity": source.nonlinearity} if isinstance(source, nn.RNN) else {}),
                )
                names = [
                    f"weight_ih_l{layer}",
                    f"weight_hh_l{layer}",
                    f"bias_ih_l{layer}",
                    f"bias_hh_l{layer}",
                ]
                cell.load_state_dict(
                    {name.replace(f"l{layer}", "l0"): getattr(source, name + suffix) for name in names}
                )
                directions.append(cell)
            self.layers.append(directions)

    def forward(self, vectors: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        real = (padding_mask == 0).unsqueeze(-1).to(vectors.dtype)
        lengths = (padding_mask == 0).sum(dim=1, keepdim=True)
        positions = torch.arange(vectors.shape[1], device=vectors.device).unsqueeze(0)
        reverse = torch.where(positions < lengths, lengths - 1 - positions, positions).unsqueeze(-1)
        for directions in self.layers:
            states = [directions[0](vectors)[0]]
            if len(directions) == 2:
                flipped = vectors.gather(1, reverse.expand(-1, -1, vectors.shape[-1]))
                backward = directions[1](flipped)[0]
                states.append(backward.gather(1, reverse.expand(-1, -1, backward.shape[-1])))
            vectors = torch.cat(states, dim=-1) * real
        return vectors


def as_is(part: nn.Module) -> nn.Module:
    """Parts that trace as they are."""
    return part


EXPORT_FORMS: dict[type, Callable[[nn.Module], nn.Module]] = {
    TokenEmbedding: WordLookup,
    CharCNN: as_is,
    CasingEmbedding: as_is,
    TransformerEmbedding: ScatteredPieces,
    PackedRecurrent: MaskedRecurrent,
    FFNN: as_is,
    PassThrough: as_is,
    CRFHead: as_is,
    SoftmaxHead: as_is,
}

# A tagger's parts after its word embedding, by attribute, with the `model` setting that picks each.
PART_KEYS = {
    "char_encoder": "chars",
    "casing": "casing",
    "transformer": "transformer",
    "model": "model",
    "head": "head",
}


def export_form(model: NERPredictor, attribute: str) -> nn.Module:
    """The export form of one of a tagger's parts; a NerError naming its setting if it has none."""
    part = getattr(model, attribute)
    for cls in type(part).__mro__:
        if cls in EXPORT_FORMS:
            return EXPORT_FORMS[cls](part)
    key = PART_KEYS.get(attribute, attribute)
    setting = f"model.{key}={model.config[key]!r}" if key in model.config else attribute
    raise NerError(f"{setting} ({type(part).__name__}) has no ONNX export path; {EXPORTABLE}")


EXPORTABLE = (
    "exportable parts: chars cnn, casing embedding, transformer minilm, model lstm/gru/elman/ffnn/none, "
    "head crf/softmax"
)


class ExportGraph(nn.Module):
    """A copy of a NERPredictor with each part in its export form, reading named tensors: `inputs` (in
    that order) in, the tagger's own `forward` on them, emissions out."""

    def __init__(self, model: NERPredictor):
        super().__init__()
        if not isinstance(model, NERPredictor):
            raise NerError(f"{type(model).__name__} (a bare network of the notebook) has no ONNX export path")
        self.tagger = copy.deepcopy(model).eval()
        for attribute in ("embedding", *PART_KEYS):
            if getattr(self.tagger, attribute) is not None:
                setattr(self.tagger, attribute, export_form(self.tagger, attribute))
        self.inputs = ["input_ids", "padding_mask"]
        if model.char_encoder is not None:
            self.inputs += ["char_words", "char_index"]
        if model.casing is not None:
            self.inputs.append("casing_ids")
        if model.transformer is not None:
            self.inputs += ["piece_ids", "piece_word"]

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """(batch, length, scheme tags) emissions of the inputs named by `inputs`, in that order."""
        return self.tagger(Batch(**dict(zip(self.inputs, tensors, strict=True))))
