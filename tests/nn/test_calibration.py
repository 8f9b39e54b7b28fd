"""Calibrated span probabilities: a temperature that leaves the tags alone, fitted back from outcomes
drawn at a known one; calibration metrics; thresholds."""

import json
from collections import Counter

import numpy as np
import pytest

from ner.nn.tags.chain import chains, viterbi
from ner.nn.tags.schemes import BIO
from ner.nn.tags.scoring import ScoredSpan, keep_confident, scored_spans
from ner.nn.tags.temperature import Calibration, fit_temperature, rescaled, span_scores
from ner.runtime.folder import CALIBRATION_FILE
from ner.utils.errors import DataFormatError, NerError
from ner.utils.reliability import Scored, at_thresholds, calibration, suggest_thresholds
from ner.utils.thresholds import ThresholdError, check_min_score, parse_min_score, threshold_for

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SCHEME = BIO(LABELS)


def random_batch(rng: np.random.Generator, sentences: int, length: int, sharpness: float):
    """Emissions and the BIO chain's constrained scores of random left-aligned sentences."""
    emissions = rng.normal(0.0, sharpness, (sentences, length, len(LABELS)))
    allowed, start, end = SCHEME.transition_masks()
    transitions = np.where(allowed, rng.normal(0.0, 1.0, allowed.shape), -np.inf)
    return emissions, transitions, np.where(start, 0.0, -np.inf), np.where(end, 0.0, -np.inf)


def tagged(emissions, transitions, start, end, temperature=1.0):
    """Viterbi tags, chains and scored spans of a batch of full-length sentences."""
    lengths = np.full(len(emissions), emissions.shape[1])
    paths = viterbi(emissions, transitions, start, end, lengths)
    found = chains(emissions, transitions, start, end, lengths.tolist(), temperature)
    tags = [[LABELS[i] for i in path] for path in paths]
    return tags, found, [scored_spans(t, c, SCHEME) for t, c in zip(tags, found, strict=True)]


def test_a_temperature_keeps_the_best_path_and_changes_span_probabilities():
    emissions, transitions, start, end = random_batch(np.random.default_rng(0), 40, 9, 2.0)
    lengths = np.full(40, 9)
    cold, hot = (chains(emissions, transitions, start, end, lengths.tolist(), t) for t in (1.0, 3.0))
    assert viterbi(emissions / 3.0, transitions / 3.0, start, end, lengths) == viterbi(
        emissions, transitions, start, end, lengths
    )
    tags, _, spans = tagged(emissions, transitions, start, end)
    assert any(spans)
    for chain_cold, chain_hot, sentence in zip(cold, hot, spans, strict=True):
        for span in sentence:
            tag_ids = SCHEME.span_tags(span.label, span.last - span.first + 1)
            # The best path's spans are likelier than even under a sharp chain, less so under a flat one.
            assert (
                chain_hot.span_probability(span.first, *tag_ids)
                < chain_cold.span_probability(span.first, *tag_ids)
                or chain_cold.span_probability(span.first, *tag_ids) < 0.5
            )
    rechained = rescaled(cold, 3.0)
    for a, b in zip(rechained, hot, strict=True):
        assert np.allclose(a.alpha, b.alpha) and a.log_z == pytest.approx(b.log_z)


def test_the_fitted_temperature_is_the_one_the_outcomes_were_drawn_at():
    rng = np.random.default_rng(1)
    emissions, transitions, start, end = random_batch(rng, 3000, 6, 3.0)
    true_temperature = 2.0
    tags, raw, spans = tagged(emissions, transitions, start, end)
    truth = span_scores(rescaled(raw, true_temperature), spans, SCHEME)
    outcomes = rng.random(truth.size) < truth
    fitted = fit_temperature(raw, spans, outcomes.tolist(), SCHEME)
    assert fitted == pytest.approx(true_temperature, rel=0.1)
    assert fit_temperature(raw[:0], spans[:0], [], SCHEME) == 1.0
    assert fit_temperature(raw, spans, [True] * truth.size, SCHEME) == 1.0


def test_a_calibration_is_kept_in_the_model_folder(tmp_path):
    assert Calibration.read(tmp_path / CALIBRATION_FILE).temperature == 1.0
    Calibration(1.7, "val", {"ece": 0.1}, {"ece": 0.02}).save(tmp_path / CALIBRATION_FILE)
    read = Calibration.read(tmp_path / CALIBRATION_FILE)
    assert (read.temperature, read.fitted_on, read.after) == (1.7, "val", {"ece": 0.02})
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps({"method": "temperature", "temperature": -1}))
    with pytest.raises(DataFormatError, match=CALIBRATION_FILE):
        Calibration.read(tmp_path / CALIBRATION_FILE)


def test_expected_calibration_error_and_brier_score():
    perfect = [Scored("PER", 0.75, i < 3) for i in range(4)] + [Scored("LOC", 0.25, i < 1) for i in range(4)]
    found = calibration(perfect)
    assert found["ece"] == pytest.approx(0.0) and found["entities"] == 8
    assert found["brier"] == pytest.approx((3 * 0.25**2 + 0.75**2 + 0.75**2 + 3 * 0.25**2) / 8)
    overconfident = calibration([Scored("PER", 0.95, i < 5) for i in range(10)])
    assert overconfident["ece"] == pytest.approx(0.45) and overconfident["accuracy_at_0.9"] == 0.5
    assert [b["count"] for b in overconfident["bins"]] == [0] * 9 + [10]
    assert calibration([])["entities"] == 0 and set(calibration([])) == set(overconfident)


def test_precision_recall_at_thresholds_and_suggested_thresholds():
    entities = [
        Scored("PER", 0.95, True),
        Scored("PER", 0.9, True),
        Scored("PER", 0.6, False),
        Scored("PER", 0.4, True),
        Scored("ORG", 0.8, False),
        Scored("ORG", 0.3, False),
    ]
    gold = Counter({"PER": 4, "ORG": 1})
    table = at_thresholds(entities, gold, (0.0, 0.5, 0.9))
    assert [(r["precision"], r["recall"]) for r in table["PER"]] == [(0.75, 0.75), (2 / 3, 0.5), (1.0, 0.5)]
    assert table["ORG"][0] == {"threshold": 0.0, "kept": 2, "precision": 0.0, "recall": 0.0}
    assert suggest_thresholds(entities, gold) == {"ORG": None, "PER": 0.0}
    assert suggest_thresholds(entities, gold, target_precision=0.9) == {"ORG": None, "PER": 0.9}


def test_thresholds_are_parsed_checked_and_applied():
    assert parse_min_score("0.5") == 0.5
    assert parse_min_score(" PER=0.6, ORG=0.4") == {"PER": 0.6, "ORG": 0.4}
    for bad in ("1", "-0.1", "abc", "PER=x", "nan"):
        with pytest.raises(ThresholdError):
            parse_min_score(bad)
    for bad, problem in [
        ("PER=", "takes a number or TYPE=NUMBER"),
        ("=0.3", "takes"),
        ("PER=0.6,PER=0.5", "twice"),
    ]:
        with pytest.raises(NerError, match=problem):
            parse_min_score(bad)
    with pytest.raises(ThresholdError, match="unknown entity type 'FOO'"):
        check_min_score({"FOO": 0.5}, ["PER", "LOC"])
    assert threshold_for({"PER": 0.6}, "LOC") == 0.0 and threshold_for(0.3, "LOC") == 0.3
    tags = ["B-PER", "I-PER", "O", "B-LOC"]
    spans = [ScoredSpan("PER", 0, 1, 0.55), ScoredSpan("LOC", 3, 3, 0.9)]
    assert keep_confident(tags, spans, {"PER": 0.6}) == (["O", "O", "O", "B-LOC"], [spans[1]])
    assert keep_confident(tags, spans, 0.95) == (["O"] * 4, [])
    assert keep_confident(tags, spans, None) == (tags, spans)
