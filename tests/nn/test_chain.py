"""Span probabilities and k-best paths of a tag chain, checked against enumerating every path."""

import itertools

import numpy as np
import pytest
import torch

from ner.nn.tags.chain import chains

TAGS = 4


def path_score(emissions, transitions, start, end, path):
    score = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
    return score + sum(transitions[a, b] for a, b in itertools.pairwise(path))


def all_paths(emissions, transitions, start, end, length):
    paths = list(itertools.product(range(TAGS), repeat=length))
    scores = np.array([path_score(emissions, transitions, start, end, p) for p in paths])
    probs = np.exp(scores - np.logaddexp.reduce(scores))
    return paths, probs


@pytest.fixture
def batch():
    torch.manual_seed(0)
    emissions = torch.randn(3, 5, TAGS)
    transitions = torch.randn(TAGS, TAGS)
    transitions[0, 2] = -1e4  # a forbidden move, as the CRF's constraints make them
    return emissions, transitions, torch.randn(TAGS), torch.randn(TAGS), [5, 3, 1]


def test_span_probabilities_match_enumeration(batch):
    emissions, transitions, start, end, lengths = batch
    for i, chain in enumerate(chains(emissions, transitions, start, end, lengths)):
        n = lengths[i]
        e, t, s, f = emissions[i, :n].numpy(), transitions.numpy(), start.numpy(), end.numpy()
        paths, probs = all_paths(e, t, s, f, n)
        assert chain.log_z == pytest.approx(
            np.log(np.exp([path_score(e, t, s, f, p) for p in paths]).sum()), rel=1e-4
        )
        for first, last in [(a, b) for a in range(n) for b in range(a, n)]:
            exact = sum(
                p
                for path, p in zip(paths, probs, strict=True)
                if path[first] == 1
                and all(y == 2 for y in path[first + 1 : last + 1])
                and (last + 1 == n or path[last + 1] != 2)
            )
            tags = [1] + [2] * (last - first)
            assert chain.span_probability(first, tags, barred_next=2) == pytest.approx(exact, abs=1e-5)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_best_paths_match_enumeration(batch, k):
    emissions, transitions, start, end, lengths = batch
    for i, chain in enumerate(chains(emissions, transitions, start, end, lengths)):
        paths, probs = all_paths(chain.emissions, chain.transitions, chain.start, chain.end, lengths[i])
        order = np.argsort(-probs, kind="stable")[:k]
        best = chain.best_paths(k)
        assert [p for _, p in best] == pytest.approx([probs[j] for j in order], abs=1e-6)
        assert [tuple(path) for path, _ in best] == [paths[j] for j in order]
