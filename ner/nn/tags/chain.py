"""A linear chain of tag scores (emissions, transitions, start and end) and what it gives besides the
best path: forward-backward log-marginals, the probability of one entity span, and the k best paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


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

    def tag_marginals(self) -> np.ndarray:
        """Each position's probability of each tag, (length, tags)."""
        return np.exp(np.minimum(self.alpha + self.beta - self.log_z, 0.0))

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
    emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log alpha, log beta (batch, length, tags) and log Z (batch,) of left-aligned sentences of
    `lengths`, by the scaled forward-backward algorithm: each step is one matrix product in probability
    space, renormalised, its scale kept in log space (positions past a sentence's end are left as they
    are and never read)."""
    batch, length, _ = emissions.shape
    shift = emissions.max(axis=2, keepdims=True)
    probs = np.exp(emissions - shift)
    t_max, s_max, e_max = transitions.max(), start.max(), end.max()
    moves = np.exp(transitions - t_max)
    real = np.arange(length)[None, :] < lengths[:, None]
    alpha = np.empty_like(probs)
    log_scale = np.zeros((batch, length))
    current = np.exp(start - s_max) * probs[:, 0]
    offset = s_max
    for t in range(length):
        if t > 0:
            current = np.where(real[:, t, None], (current @ moves) * probs[:, t], current)
            offset = t_max
        total = current.sum(axis=1, keepdims=True)
        current = current / total
        alpha[:, t] = current
        log_scale[:, t] = np.where(real[:, t], np.log(total[:, 0]) + offset + shift[:, t, 0], 0.0)
    cumulative = np.cumsum(log_scale, axis=1)
    finish = np.exp(end - e_max)
    last = np.maximum(lengths - 1, 0)
    rows = np.arange(batch)
    log_z = np.log((alpha[rows, last] * finish).sum(axis=1)) + e_max + cumulative[rows, last]
    beta = np.empty_like(probs)
    back_scale = np.zeros((batch, length))
    current = np.broadcast_to(finish, (batch, finish.shape[0]))
    for t in range(length - 1, -1, -1):
        is_last = t == last
        offset = np.full(batch, e_max)
        if t < length - 1:
            stepped = (probs[:, t + 1] * current) @ moves.T
            current = np.where(is_last[:, None], finish, np.where(real[:, t + 1, None], stepped, current))
            offset = np.where(is_last, e_max, t_max + shift[:, t + 1, 0])
        total = current.sum(axis=1, keepdims=True)
        current = current / total
        beta[:, t] = current
        back_scale[:, t] = np.where(real[:, t], np.log(total[:, 0]) + offset, 0.0)
    remaining = np.cumsum(back_scale[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore"):
        return np.log(alpha) + cumulative[:, :, None], np.log(beta) + remaining[:, :, None], log_z


def left_aligned(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(batch, length, ...) values with each row's real positions (mask True) moved to the front."""
    order = np.argsort(~mask, axis=1, kind="stable")
    return np.take_along_axis(values, order.reshape(order.shape + (1,) * (values.ndim - 2)), axis=1)


def viterbi(
    emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray, lengths: np.ndarray
) -> list[list[int]]:
    """The best tag path of each left-aligned sentence of `lengths` (batched Viterbi; ties go to the
    lowest tag id, as torch's max does)."""
    batch, length, _ = emissions.shape
    score = start + emissions[:, 0]
    history = []
    for t in range(1, length):
        candidates = score[:, :, None] + transitions
        best = candidates.argmax(axis=1)
        step = np.take_along_axis(candidates, best[:, None, :], axis=1)[:, 0] + emissions[:, t]
        history.append(best)
        score = np.where((t < lengths)[:, None], step, score)
    current = (score + end).argmax(axis=1)
    paths = np.zeros((batch, length), dtype=np.int64)
    rows = np.arange(batch)
    for t in range(length - 1, -1, -1):
        inside = t < lengths
        paths[:, t] = np.where(inside, current, paths[:, t])
        if t > 0:
            current = np.where(inside, history[t - 1][rows, current], current)
    return [row[:n] for row, n in zip(paths.tolist(), lengths.tolist(), strict=True)]


def chains(
    emissions: np.ndarray,
    transitions: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    lengths: list[int],
    temperature: float = 1.0,
) -> list[Chain]:
    """One Chain per left-aligned sentence of a batch (arrays, or tensors on the CPU), its scores divided
    by `temperature` (a calibration: the best path stays the same, its probability and every span's
    change)."""
    emissions, transitions, start, end = (
        np.asarray(x, dtype=np.float64) / temperature for x in (emissions, transitions, start, end)
    )
    lengths = np.asarray(lengths, dtype=np.int64)
    alpha, beta, log_z = forward_backward(emissions, transitions, start, end, lengths)
    return [
        Chain(emissions[i, :n], transitions, start, end, alpha[i, :n], beta[i, :n], float(log_z[i]))
        for i, n in enumerate(lengths.tolist())
    ]
