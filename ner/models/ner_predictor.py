"""NERPredictor: a tagger composed of a token representation, an encoder and a head, each picked by name."""

from __future__ import annotations

import re

import torch
from torch import nn

from ner.data_processing.batch import Batch
from ner.data_processing.constants import DEFAULT_LABELS
from ner.models.tagger import Tagger
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.parts import ModelConfig, part_of, upgrade_model_settings
from ner.utils.config import validate

# Weight names of run folders written before the head owned the output layer and the CRF.
LEGACY_NAMES = (
    (re.compile(r"^model\.hidden_output\."), "head.projection."),
    (re.compile(r"^crf\."), "head.crf."),
)


# The attribute that holds each slot's part (names the notebook and saved weights fix).
PART_ATTRIBUTES = {
    "chars": "char_encoder",
    "casing": "casing",
    "transformer": "transformer",
    "encoder": "model",
    "head": "head",
}


def upgrade_weight_name(name: str) -> str:
    """A weight's name as today's taggers call it, given the name of this or an earlier version."""
    for pattern, replacement in LEGACY_NAMES:
        name = pattern.sub(replacement, name)
    return name


def upgrade_weight_names(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict with the names of earlier versions renamed to today's."""
    return {upgrade_weight_name(name): tensor for name, tensor in state_dict.items()}


class NERPredictor(Tagger):
    """A tagger: a word embedding, then the parts of `ModelConfig` (character encoder, casing features,
    transformer: their vectors joined to the word's), its encoder and its head, each built from its
    registered part (`ner.nn.parts`). `settings` are the model config's keys, as sections or in the
    flat form of earlier versions and of the notebook's configs.

    With the defaults it is the notebook's model: `model="ffnn"` or `"rnn"` are the notebook's FFNN and
    step-by-step RNN, whose output layer V (`model.model.hidden_output` in the notebook) is the head's
    projection.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        padding_idx: int,
        hidden_dim: int | None = None,
        output_dim: int | None = None,
        unk_idx: int = 1,
        labels: list[str] | None = None,
        **settings: object,
    ):
        super().__init__()
        if hidden_dim is not None:
            settings["hidden_dim"] = hidden_dim
        self.settings = validate(ModelConfig, {"embedding_dim": embedding_dim, **settings})
        labels = (
            list(labels)
            if labels is not None
            else (list(DEFAULT_LABELS) if output_dim in (None, 9) else None)
        )
        if labels is None or (output_dim is not None and len(labels) != output_dim):
            raise ValueError(f"labels must name each of the {output_dim} outputs")
        self.config = {
            "vocab_size": vocab_size,
            "padding_idx": padding_idx,
            "unk_idx": unk_idx,
            "labels": labels,
        }
        self.config |= self.settings.to_dict()
        self.padding_idx, self.unk_idx = padding_idx, unk_idx
        self.word_dropout = self.settings.word_dropout
        self.embedding = TokenEmbedding(vocab_size, embedding_dim, padding_idx)
        self.char_encoder, self.casing, self.transformer = (
            self._represent_by(slot) for slot in ("chars", "casing", "transformer")
        )
        self.input_dropout = nn.Dropout(self.settings.dropout)
        input_dim = embedding_dim + sum(
            p.output_size for p in (self.char_encoder, self.casing, self.transformer) if p is not None
        )
        self.model = self._part("encoder").from_settings(self.settings.encoder, input_dim)
        self.head = self._part("head").from_settings(self.settings.head, self.model.output_size, labels)
        # Encoder and head are initialised together, once both exist: the order of random draws (and so
        # a seed's weights) is that of the notebook's networks, whose output layer was their own.
        for part in (self.model, self.head):
            part.apply(self.init_weights)
        # The notebook reaches the output layer V as model.model.hidden_output; the head owns it.
        object.__setattr__(self.model, "hidden_output", self.head.projection)
        self.register_load_state_dict_pre_hook(self._upgrade_names)

    def _part(self, slot: str) -> type:
        """The class of the part in `slot`."""
        return part_of(slot, getattr(self.settings, slot)).load()

    def _represent_by(self, slot: str) -> nn.Module | None:
        """The token representation part in `slot`, or None where the model has none."""
        settings = getattr(self.settings, slot)
        return self._part(slot).from_settings(settings) if settings is not None else None

    @staticmethod
    def _upgrade_names(module: nn.Module, state_dict: dict, prefix: str, *_) -> None:
        """Rename the weights of earlier versions in place, so `load_state_dict` reads old checkpoints."""
        for name in [n for n in state_dict if n.startswith(prefix)]:
            new = prefix + upgrade_weight_name(name[len(prefix) :])
            if new != name:
                state_dict[new] = state_dict.pop(name)

    def extend_vocabulary(self, vectors: torch.Tensor) -> None:
        """Words added to the tokenizer after training (`Tokenizer.extend`) read these vectors, one row
        each, in order."""
        self.embedding.extend(vectors)

    @property
    def tag_scheme(self) -> str:
        """The tag scheme the head trains and decodes in, its tag chain's tags."""
        return self.head.scheme.name

    @property
    def takes_class_weights(self) -> bool:
        """Whether the loss can weight tags (the softmax head's can, the CRF's cannot)."""
        return self.settings.class_weights_problem() is None

    def _drop_words(self, input_ids: torch.Tensor) -> torch.Tensor:
        """In training, replace a `word_dropout` fraction of real tokens by the unknown token."""
        if not self.training or self.word_dropout == 0.0:
            return input_ids
        drop = torch.rand(input_ids.shape, device=input_ids.device) < self.word_dropout
        return torch.where(
            drop & (input_ids != self.padding_idx), torch.full_like(input_ids, self.unk_idx), input_ids
        )

    def represent(self, batch: Batch) -> torch.Tensor:
        """(batch, length, features) token vectors: word, characters, casing, transformer."""
        vectors = self.embedding(self._drop_words(batch.input_ids))
        if self.char_encoder is not None:
            characters = self.char_encoder(required(batch, "char_words"), required(batch, "char_index"))
            vectors = torch.cat([vectors, characters], dim=-1)
        if self.casing is not None:
            vectors = torch.cat([vectors, self.casing(required(batch, "casing_ids"))], dim=-1)
        if self.transformer is not None:
            pieces, owners = required(batch, "piece_ids"), required(batch, "piece_word")
            words = self.transformer(pieces, owners, tuple(batch.input_ids.shape))
            vectors = torch.cat([vectors, words.to(vectors.dtype)], dim=-1)
        return self.input_dropout(vectors)

    def forward(self, batch: Batch) -> torch.Tensor:
        """(batch, length, scheme tags) emission scores."""
        return self.head(self.model(self.represent(batch), batch.padding_mask))

    def loss(
        self,
        emissions: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        class_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The head's loss per labelled real token."""
        return self.head.loss(emissions, labels, mask, class_weights)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The head's BIO label id of each token."""
        return self.head.decode(emissions, mask)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The head's BIO label probabilities of each token."""
        return self.head.marginals(emissions, mask)

    def potentials(self, emissions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Emissions, transitions, start and end of the tag chain the head reads its scores as."""
        return self.head.potentials(emissions)

    upgrade_config = staticmethod(upgrade_model_settings)
    upgrade_state_dict = staticmethod(upgrade_weight_names)


INPUT_HINTS = {
    "char_words": "character ids: build its collator with char_max_length",
    "char_index": "character ids: build its collator with char_max_length",
    "casing_ids": "casing classes: build its collator with casing=True",
    "piece_ids": "WordPieces: build its collator with word_pieces",
    "piece_word": "WordPieces: build its collator with word_pieces",
}


def required(batch: Batch, name: str) -> torch.Tensor:
    """The batch's `name` tensor, which this model reads; refused by name when the collator left it out."""
    value = getattr(batch, name)
    if value is None:
        raise ValueError(f"this model reads {INPUT_HINTS[name]}")
    return value
