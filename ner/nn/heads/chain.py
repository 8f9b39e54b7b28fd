"""A linear chain of tag scores (emissions, transitions, start and end) and what it gives besides the
best path: forward-backward log-marginals, the probability of one entity span, and the k best paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Chain:
    """One sentence's chain: log-scores of each (position, tag), of each tag pair, of the first and the
    last tag; a path's probability is exp(its score - log_z). `alpha[t, y]` is the log-sum of the
    scores of all paths up to position t that end in y (its emission included), `beta[t, y]` that of
    all continuations after position t given y there."""

    emissions: np.ndarray
    transitions: np.ndarray
    start: np.ndarray
    end: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    log_z: float

    def span_probability(self, first: int, tags: list[int], barred_next: int | None = None) -> float:
        """Probability that the tokens from `first` on carry exactly `tags` and that the token after
        them, if any, is not `barred_next` (for BIO: B-X, I-X ... and no I-X after, one entity)."""
        score = self.alpha[first, tags[0]]
        for t, (previous, tag) in enumerate(itertools.pairwise(tags), start=first + 1):
            score += self.transitions[previous, tag] + self.emissions[t, tag]
        after = first + len(tags)
        if after == len(self.emissions):
            score += self.end[tags[-1]]
        else:
            following = self.transitions[tags[-1]] + self.emissions[after] + self.beta[after]
            if barred_next is not None:
                following[barred_next] = -np.inf
            score += np.logaddexp.reduce(following)
        return float(np.exp(min(score - self.log_z, 0.0)))

    def best_paths(self, k: int) -> list[tuple[list[int], float]]:
        """The k most probable tag paths with their probabilities, best first (k-best Viterbi)."""
        length, tags = self.emissions.shape
        scores = (self.start + self.emissions[0])[:, None].repeat(k, axis=1)
        scores[:, 1:] = -np.inf
        pointers = []
        for t in range(1, length):
            candidates = scores[:, :, None] + self.transitions[:, None, :]
            flat = candidates.reshape(tags * k, tags)
            order = np.argsort(-flat, axis=0, kind="stable")[:k]
            scores = np.take_along_axis(flat, order, axis=0).T + self.emissions[t][:, None]
            pointers.append(order.T)
        final = (scores + self.end[:, None]).reshape(-1)
        paths = []
        for flat_index in np.argsort(-final, kind="stable")[:k]:
            if not np.isfinite(final[flat_index]):
                break
            tag, rank = divmod(int(flat_index), k)
            path = [tag]
            for back in reversed(pointers):
                tag, rank = divmod(int(back[tag, rank]), k)
                path.append(tag)
            paths.append((path[::-1], float(np.exp(final[flat_index] - self.log_z))))
        return paths


def forward_backward(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lengths: list[int],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """alpha, beta (batch, length, tags) and log Z (batch,) of right-padded sentences of `lengths`."""
    batch, length, _ = emissions.shape
    real = torch.arange(length, device=emissions.device)[None, :] < torch.as_tensor(lengths)[:, None]
    alpha = torch.empty_like(emissions)
    alpha[:, 0] = start + emissions[:, 0]
    for t in range(1, length):
        alpha[:, t] = torch.logsumexp(alpha[:, t - 1, :, None] + transitions, dim=1) + emissions[:, t]
    beta = torch.empty_like(emissions)
    beta[:, length - 1] = end
    for t in range(length - 2, -1, -1):
        after = torch.logsumexp(transitions + (emissions[:, t + 1] + beta[:, t + 1])[:, None, :], dim=2)
        beta[:, t] = torch.where(real[:, t + 1, None], after, end.expand_as(after))
    last = (torch.as_tensor(lengths) - 1).clamp(min=0)
    log_z = torch.logsumexp(alpha[torch.arange(batch), last] + end, dim=1)
    return alpha, beta, log_z


def chains(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lengths: list[int],
) -> list[Chain]:
    """One Chain per right-padded sentence of a batch."""
    emissions, transitions, start, end = (
        x.detach().float().cpu() for x in (emissions, transitions, start, end)
    )
    alpha, beta, log_z = forward_backward(emissions, transitions, start, end, lengths)
    t, s, e = transitions.numpy(), start.numpy(), end.numpy()
    return [
        Chain(emissions[i, :n].numpy(), t, s, e, alpha[i, :n].numpy(), beta[i, :n].numpy(), float(log_z[i]))
        for i, n in enumerate(lengths)
    ]
