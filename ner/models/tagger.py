"""The tagger contract: a typed batch in, emissions out; `loss` and `decode` read the emissions. Every
caller (training, prediction, export) talks to a tagger through these methods and nothing else."""

from __future__ import annotations

import abc

import torch
from torch import nn

from ner.data_processing.batch import Batch
from ner.nn.heads.softmax import independent_tokens, token_cross_entropy
from ner.nn.module import Module


class Tagger(Module, abc.ABC):
    """What every tagger does: `forward(batch)` gives (batch, length, tags) emissions; `loss(emissions,
        labels, mask)` the training loss per labelled token; `decode(emissions, mask)` each token's BIO label
        id; `potentials(emissions)` the tag chain (emissions, transitions, start, end) behind span
        probabilities and the k best paths, in the tags of `tag_scheme`; `marginals(emissions, mask)` each
    token's BIO label probabilities. `mask` is True at real tokens."""

    takes_class_weights = False
    tag_scheme = "bio"

    @abc.abstractmethod
    def forward(self, batch: Batch) -> torch.Tensor:
        """(batch, length, tags) emission scores."""

    @abc.abstractmethod
    def loss(
        self,
        emissions: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        class_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The training loss per labelled real token."""

    @abc.abstractmethod
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, length) BIO label ids of the best tagging."""

    @abc.abstractmethod
    def potentials(self, emissions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Emissions, transitions, start and end scores of the tag chain the emissions define."""

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, length, BIO labels) each token's label probabilities, differentiable (what a student is
        distilled on); here the emissions are BIO scores of independent tokens."""
        return emissions.float().softmax(dim=-1)

    def extend_vocabulary(self, vectors: torch.Tensor) -> None:
        """Word ids from the vocabulary size on read these pretrained vectors (a tagger without a word
        embedding of its own cannot take them)."""
        raise ValueError(f"{type(self).__name__} has no word embedding to extend")


class NetworkTagger(Tagger):
    """A bare network of the notebook (FFNN, RNN or a TokenEmbedding: token ids in, one score per BIO
    label out) kept to the tagger contract: cross-entropy loss, arg-max decoding."""

    takes_class_weights = True

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, batch: Batch) -> torch.Tensor:
        """The network's scores of the batch's token ids."""
        return self.network(batch.input_ids)

    def loss(
        self,
        emissions: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        class_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean (class-weighted) cross-entropy over labelled real tokens."""
        return token_cross_entropy(emissions, labels, mask, class_weights)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Each token's arg-max label."""
        return emissions.argmax(dim=-1)

    def potentials(self, emissions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Independent tokens, each with its softmax probabilities."""
        return independent_tokens(emissions.float().log_softmax(dim=-1))


def as_tagger(model: nn.Module) -> Tagger:
    """`model` itself if it keeps the tagger contract, else the notebook's bare network adapted to it."""
    return model if isinstance(model, Tagger) else NetworkTagger(model)
