"""Predictors: complete taggers built from the networks in ner.nn."""

from ner.models.ner_predictor import NERPredictor

__all__ = ["NERPredictor"]
