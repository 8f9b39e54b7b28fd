"""Linear-chain CRF with its tag scheme's transition constraints (vectorised forward algorithm; Viterbi by
the tag chain's), and the head that projects hidden states to its emission scores."""

from __future__ import annotations

import torch
from torch import nn

from ner.data_processing.constants import LABEL_IGNORE_IDX
from ner.nn.heads.head import Head
from ner.nn.heads.tag_encoding import encode_labels
from ner.nn.module import Module
from ner.nn.tags.chain import left_aligned, viterbi
from ner.nn.tags.schemes import TAG_SCHEMES

FORBIDDEN = -1e4


def begin_tags(labels: list[str]) -> torch.Tensor:
    """For each tag id, the id of B-X if it is I-X (and B-X exists), else itself."""
    index = {label: i for i, label in enumerate(labels)}
    return torch.tensor(
        [index.get(f"B-{label[2:]}", i) if label.startswith("I-") else i for i, label in enumerate(labels)]
    )


def left_align(mask: torch.Tensor) -> torch.Tensor:
    """Per-row gather indices that move the real (mask True) positions to the front, in order."""
    return torch.argsort((~mask).to(torch.int8), dim=1, stable=True)


class CRF(Module):
    """Scores tag sequences as emissions plus learned transitions over the tags of `tag_scheme` (for the
    BIO `labels`); moves the scheme forbids are forbidden."""

    def __init__(self, labels: list[str], tag_scheme: str = "bio"):
        super().__init__()
        self.record_config(locals())
        scheme = TAG_SCHEMES[tag_scheme](list(labels))
        size = len(scheme.labels)
        self.transitions = nn.Parameter(torch.zeros(size, size))
        self.start_transitions = nn.Parameter(torch.zeros(size))
        self.end_transitions = nn.Parameter(torch.zeros(size))
        allowed, start, end = (torch.from_numpy(m) for m in scheme.transition_masks())
        self.register_buffer("transition_penalty", (~allowed).float() * FORBIDDEN, persistent=False)
        self.register_buffer("start_penalty", (~start).float() * FORBIDDEN, persistent=False)
        self.register_buffer("end_penalty", (~end).float() * FORBIDDEN, persistent=False)
        self.register_buffer("begin_of", begin_tags(scheme.labels), persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores with the constraints applied."""
        return (
            self.transitions + self.transition_penalty,
            self.start_transitions + self.start_penalty,
            self.end_transitions + self.end_penalty,
        )

    @staticmethod
    def _aligned(emissions: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor | None = None):
        """Emissions, mask (and tags) with each row's real positions moved to the front."""
        order = left_align(mask)
        emissions = emissions.gather(1, order.unsqueeze(-1).expand_as(emissions))
        mask = mask.gather(1, order)
        tags = tags.gather(1, order) if tags is not None else None
        return emissions, mask, tags, order

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z of each left-aligned sequence, by the forward algorithm (batch,)."""
        transitions, start, end = self._scores()
        alpha = start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def sequence_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Score of the given left-aligned tag sequences (batch,)."""
        transitions, start, end = self._scores()
        maskf = mask.float()
        emit = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)
        score = start[tags[:, 0]] + (emit * maskf).sum(dim=1)
        score = score + (transitions[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]).sum(dim=1)
        last = tags.gather(1, (mask.sum(dim=1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return score + end[last]

    def repair(self, tags: torch.Tensor) -> torch.Tensor:
        """Left-aligned gold tags with each I-X that cannot follow its predecessor turned into B-X
        (legal data, but impossible under the constraints, where it would dominate the loss)."""
        previous = torch.cat([torch.full_like(tags[:, :1], -1), tags[:, :-1]], dim=1)
        forbidden = torch.cat(
            [self.start_penalty[tags[:, :1]] < 0, self.transition_penalty[previous[:, 1:], tags[:, 1:]] < 0],
            dim=1,
        )
        return torch.where(forbidden, self.begin_of[tags], tags)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold tags, summed over the batch (mask True at real tokens)."""
        emissions, mask, tags, _ = self._aligned(emissions, mask, tags.clamp(min=0))
        tags = self.repair(tags)
        nonempty = mask[:, 0]
        nll = self.log_partition(emissions, mask) - self.sequence_score(emissions, tags, mask)
        return (nll * nonempty).sum()

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Most likely tag ids (batch, length), in the input's positions; 0 at padding. Decoded by the tag
        chain's Viterbi, the one exported models use (as fast as torch's on the CPU: benchmarks/decode.py)."""
        real = mask.cpu().numpy()
        transitions, start, end = (x.detach().float().cpu().numpy() for x in self._scores())
        scores = left_aligned(emissions.detach().float().cpu().numpy(), real)
        paths = viterbi(scores, transitions, start, end, real.sum(axis=1))
        tags = torch.zeros(mask.shape, dtype=torch.long)
        tags[mask.cpu()] = torch.tensor([tag for path in paths for tag in path], dtype=torch.long)
        return tags.to(emissions.device)


class CRFHead(Head):
    """A linear projection to emission scores under a CRF: sentence-level loss, Viterbi decoding."""

    def __init__(self, input_dim: int, labels: list[str], tag_scheme: str = "bio"):
        super().__init__(input_dim, labels, tag_scheme)
        self.crf = CRF(labels, tag_scheme)

    def tag_axes(self) -> dict[str, tuple[int, ...]]:
        """The projection's tag axes, and the CRF's transition, start and end scores'."""
        crf = {"crf.transitions": (0, 1), "crf.start_transitions": (0,), "crf.end_transitions": (0,)}
        return super().tag_axes() | crf

    def loss(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        class_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The gold sequences' negative log-likelihood per labelled real token."""
        if class_weights is not None:
            raise ValueError("the CRF head scores whole tag sequences and takes no class weights")
        mask = mask & (labels != LABEL_IGNORE_IDX)
        return self.crf.nll(scores, encode_labels(self.scheme, labels), mask) / mask.sum().clamp(min=1)

    @torch.no_grad()
    def decode(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The most likely tag sequence of each sentence (Viterbi), as BIO ids."""
        return self.to_bio[self.crf.viterbi(scores, mask)]

    def tag_marginals(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Each token's tag marginals under the CRF: the gradient of log Z with respect to the emissions
        (forward-backward by autograd), kept differentiable; scores must require grad."""
        emissions, aligned_mask, _, _ = self.crf._aligned(scores.float(), mask)
        log_z = self.crf.log_partition(emissions, aligned_mask)
        (marginals,) = torch.autograd.grad(log_z.sum(), scores, create_graph=True)
        return marginals

    def potentials(self, scores: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tag chain: emission scores, and the CRF's constrained transition, start and end scores."""
        return (scores.float(), *self.crf._scores())
