"""Ensemble: taggers of one architecture trained side by side and decoded from their averaged scores."""

from __future__ import annotations

import torch
from torch import nn

from ner.models.ner_predictor import WORD_CASES, NERPredictor, upgrade_weight_names
from ner.nn.module import Module
from ner.utils.config import upgrade_model_settings


class Ensemble(Module):
    """`members` independently initialised taggers, each trained on its own loss (the Trainer clips each
    member's gradient norm separately), decoded together by their head's rule over the stacked scores.

    `word_case="mixed"` folds every other member's words (see NERPredictor); "folded" folds them all.
    """

    def __init__(
        self, members: int, word_case: str = "cased", rare_word_frac: float = 0.0, **tagger_settings
    ):
        super().__init__()
        self.config = {
            **tagger_settings,
            "members": members,
            "word_case": word_case,
            "rare_word_frac": rare_word_frac,
        }
        if members < 2:
            raise ValueError(f"an ensemble needs 2 members or more, got {members}")
        if word_case not in WORD_CASES:
            raise ValueError(f"word_case must be one of {WORD_CASES}, got {word_case!r}")
        folded = [word_case == "folded" or (word_case == "mixed" and i % 2 == 1) for i in range(members)]
        self.members = nn.ModuleList(
            NERPredictor(
                **tagger_settings,
                word_case="folded" if fold else "cased",
                rare_word_frac=rare_word_frac if fold else 0.0,
            )
            for fold in folded
        )

    upgrade_config = staticmethod(upgrade_model_settings)
    upgrade_state_dict = staticmethod(upgrade_weight_names)

    def set_word_lookup(self, fold_ids: list[int]) -> None:
        """Give each case-folding member the id each vocabulary id is looked up as."""
        for member in self.members:
            member.set_word_lookup(fold_ids)

    def extend_vocabulary(self, vectors: torch.Tensor) -> None:
        """Each member reads the added words' vectors."""
        for member in self.members:
            member.extend_vocabulary(vectors)

    @property
    def uses_chars(self) -> bool:
        """Whether the members read character ids."""
        return self.members[0].uses_chars

    @property
    def uses_casing(self) -> bool:
        """Whether the members read casing classes."""
        return self.members[0].uses_casing

    @property
    def tag_scheme(self) -> object:
        """The tag scheme of the members' scores and chain."""
        return self.members[0].tag_scheme

    @property
    def uses_word_pieces(self) -> str | None:
        """The transformer whose WordPieces the members read, if any."""
        return self.members[0].uses_word_pieces

    @property
    def takes_class_weights(self) -> bool:
        """Whether the members' loss can weight tags."""
        return self.members[0].takes_class_weights

    def forward(
        self,
        input_ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
        casing_ids: torch.Tensor | None = None,
        piece_ids: torch.Tensor | None = None,
        piece_word: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(batch, length) token ids -> (members, batch, length, tags) scores."""
        inputs = (input_ids, padding_mask, char_ids, casing_ids, piece_ids, piece_word)
        return torch.stack([member(*inputs) for member in self.members])

    def loss(
        self, scores: torch.Tensor, labels: torch.Tensor, class_weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The sum of the members' losses, so each member gets the gradient it would get trained alone."""
        losses = [m.loss(s, labels, class_weights) for m, s in zip(self.members, scores, strict=True)]
        return torch.stack(losses).sum()

    @torch.no_grad()
    def decode(self, scores: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        """Tag ids from the members' stacked scores, by their head's ensemble rule."""
        heads = [member.head for member in self.members]
        return type(heads[0]).decode_ensemble(heads, scores, padding_mask)

    def potentials(self, scores: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Emissions, transitions, start and end of the tag chain the members decode together."""
        heads = [member.head for member in self.members]
        return type(heads[0]).ensemble_potentials(heads, scores)
