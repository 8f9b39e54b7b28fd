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


def test_tag_marginals_match_enumeration(batch):
    emissions, transitions, start, end, lengths = batch
    for i, chain in enumerate(chains(emissions, transitions, start, end, lengths)):
        n = lengths[i]
        e, t, s, f = emissions[i, :n].numpy(), transitions.numpy(), start.numpy(), end.numpy()
        paths, probs = all_paths(e, t, s, f, n)
        expected = np.zeros((n, TAGS))
        for path, p in zip(paths, probs, strict=True):
            expected[np.arange(n), list(path)] += p
        assert np.allclose(chain.tag_marginals(), expected, atol=1e-6)


def test_doubt_is_one_minus_the_geometric_mean_of_the_given_tags_marginals():
    from ner.nn.tags.schemes import BIOES
    from ner.nn.tags.scoring import doubt

    scheme = BIOES(["O", "B-PER", "I-PER"])
    sure = np.full((1, 3, len(scheme.labels)), -20.0)
    sure[0, [0, 1, 2], [scheme.index["B-PER"], scheme.index["E-PER"], scheme.index["O"]]] = 20.0
    zeros = np.zeros((len(scheme.labels), len(scheme.labels)))
    edges = np.zeros(len(scheme.labels))
    confident = chains(sure, zeros, edges, edges, [3])
    assert doubt([["B-PER", "I-PER", "O"]], confident, scheme) < 1e-6
    assert doubt([["O", "O", "O"]], confident, scheme) > 0.99
    flat = chains(np.zeros((1, 4, len(scheme.labels))), zeros, edges, edges, [4])
    marginals = flat[0].tag_marginals()
    given = ["B-PER", "I-PER", "I-PER", "O"]
    bio = [scheme.bio_labels.index(tag) for tag in given]
    chosen = [marginals[t, np.array(scheme.to_bio) == bio[t]].sum() for t in range(4)]
    assert doubt([given], flat, scheme) == pytest.approx(1 - np.prod(chosen) ** 0.25)
    assert doubt([], [], scheme) == 0.0
