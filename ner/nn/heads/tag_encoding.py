"""Gold BIO label ids as the ids of a head's tag scheme, in torch, for training's loss."""

from __future__ import annotations

import torch

from ner.data_processing.constants import LABEL_IGNORE_IDX
from ner.nn.tags.schemes import BIO, entity_types


def encode_labels(scheme: BIO, labels: torch.Tensor) -> torch.Tensor:
    """BIO label ids (batch, length; LABEL_IGNORE_IDX where unlabelled) as `scheme`'s ids."""
    return ENCODINGS[scheme.name](scheme, labels)


def as_bio(scheme: BIO, labels: torch.Tensor) -> torch.Tensor:
    """BIO ids are already the BIO scheme's."""
    return labels


def as_bioes(scheme: BIO, labels: torch.Tensor) -> torch.Tensor:
    """BIO label ids as BIOES ids; an I-X that does not continue an X entity begins one."""
    types = entity_types(scheme.bio_labels)
    # Per BIO id: its entity type number (-1 for O) and whether it is an I- tag.
    type_of = torch.tensor([types.index(b[2:]) if b != "O" else -1 for b in scheme.bio_labels])
    is_inside = torch.tensor([b.startswith("I-") for b in scheme.bio_labels])
    real = labels != LABEL_IGNORE_IDX
    ids = labels.clamp(min=0)
    kind = torch.where(real, type_of.to(labels.device)[ids], -1)
    inside = real & is_inside.to(labels.device)[ids]
    previous_kind = torch.cat([torch.full_like(kind[:, :1], -1), kind[:, :-1]], dim=1)
    next_kind = torch.cat([kind[:, 1:], torch.full_like(kind[:, :1], -1)], dim=1)
    next_inside = torch.cat([inside[:, 1:], torch.zeros_like(inside[:, :1])], dim=1)
    begins = ~inside | (previous_kind != kind)
    continues = next_inside & (next_kind == kind)
    # Tags of type k are numbered 1 + 4k + (0 B, 1 I, 2 E, 3 S).
    offset = torch.where(begins, torch.where(continues, 0, 3), torch.where(continues, 1, 2))
    encoded = torch.where(kind >= 0, 1 + 4 * kind + offset, scheme.index["O"])
    return torch.where(real, encoded, labels)


ENCODINGS = {"bio": as_bio, "bioes": as_bioes}
