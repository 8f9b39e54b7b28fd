"""Prediction with trained taggers: numeric precision checked against the CPU."""
