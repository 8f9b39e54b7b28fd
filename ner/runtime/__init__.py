"""Tagging without training: the raw-text Pipeline and Doc over any opened model, worker processes, and
exported models on ONNX Runtime and numpy. Imports no torch."""
