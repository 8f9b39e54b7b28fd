"""Output layers that turn per-token scores into tag sequences."""
