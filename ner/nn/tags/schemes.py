"""Tag schemes a head trains and decodes in: BIO as the data has it, or BIOES (a single-token entity is
S-X, an entity's last token E-X). Data, predictions and metrics stay BIO; the head converts. Plain
lists and numpy, so the torch-free runtime reads tags as training wrote them."""

from __future__ import annotations

import numpy as np

from ner.utils.spans import orphan_inside


def entity_types(bio_labels: list[str]) -> list[str]:
    """The entity types of a BIO label list, in order of first appearance."""
    return list(dict.fromkeys(label[2:] for label in bio_labels if label[:2] in ("B-", "I-")))


class BIO:
    """The data's own scheme: B-X begins an entity, I-X continues it, O is outside."""

    name = "bio"

    def __init__(self, bio_labels: list[str]):
        self.bio_labels = list(bio_labels)
        self.labels = self.spell(self.bio_labels)
        self.index = {label: i for i, label in enumerate(self.labels)}
        self.to_bio = [self.bio_index(label) for label in self.labels]

    @staticmethod
    def spell(bio_labels: list[str]) -> list[str]:
        """This scheme's tags for the BIO labels of the data."""
        return list(bio_labels)

    def bio_index(self, label: str) -> int:
        """The BIO label id that a tag of this scheme is read as."""
        return self.bio_labels.index(label)

    def allowed(self, source: str, target: str) -> bool:
        """Whether tag `target` may follow tag `source` ("O" before the first tag and after the last)."""
        return not orphan_inside(source, target)

    def transition_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Allowed (from, to) transitions, allowed first tags and allowed last tags (booleans)."""
        labels = self.labels
        allowed = np.array([[self.allowed(a, b) for b in labels] for a in labels])
        start = np.array([self.allowed("O", b) for b in labels])
        end = np.array([self.allowed(a, "O") for a in labels])
        return allowed, start, end

    def span_tags(self, entity_type: str, length: int) -> tuple[list[int], int | None]:
        """The tag ids that spell one entity of `length` tokens, and the tag that may not follow it."""
        inside = self.index.get(f"I-{entity_type}")
        return [self.index[f"B-{entity_type}"]] + [inside] * (length - 1), inside


class BIOES(BIO):
    """BIO with the boundaries spelled out: S-X is a one-token entity, B-X I-X ... E-X a longer one."""

    name = "bioes"

    @staticmethod
    def spell(bio_labels: list[str]) -> list[str]:
        """O, then B-X, I-X, E-X, S-X for each entity type X."""
        return ["O"] + [f"{kind}-{t}" for t in entity_types(bio_labels) for kind in "BIES"]

    def bio_index(self, label: str) -> int:
        """S-X and B-X read as B-X, I-X and E-X as I-X."""
        if label == "O":
            return self.bio_labels.index("O")
        prefix = "B-" if label[0] in "BS" else "I-"
        return self.bio_labels.index(prefix + label[2:])

    def allowed(self, source: str, target: str) -> bool:
        """Inside an entity (after B-X or I-X) only I-X or E-X; elsewhere only O, B-Y or S-Y."""
        if source[:2] in ("B-", "I-"):
            return target in (f"I-{source[2:]}", f"E-{source[2:]}")
        return target == "O" or target[:2] in ("B-", "S-")

    def span_tags(self, entity_type: str, length: int) -> tuple[list[int], int | None]:
        """S-X alone, or B-X, I-X ..., E-X; any tag may follow."""
        if length == 1:
            return [self.index[f"S-{entity_type}"]], None
        tags = [self.index[f"B-{entity_type}"]] + [self.index[f"I-{entity_type}"]] * (length - 2)
        return tags + [self.index[f"E-{entity_type}"]], None


TAG_SCHEMES = {"bio": BIO, "bioes": BIOES}
