"""Each token's casing class, the input of the casing features."""

from __future__ import annotations

PAD, LOWER, TITLE, UPPER, MIXED, NUMERIC, OTHER = range(7)
NUM_CASING_CLASSES = 7


def casing_class(token: str) -> int:
    """LOWER "paris", TITLE "Paris", UPPER "NATO", MIXED "McDonald"/"iPhone", NUMERIC "1996-08-22"
    (digits and no letters), OTHER "," or "--" (neither)."""
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return NUMERIC if any(c.isdigit() for c in token) else OTHER
    if all(c.islower() for c in letters):
        return LOWER
    if all(c.isupper() for c in letters):
        return UPPER if len(letters) > 1 else TITLE
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return TITLE
    return MIXED
