"""Posterior distillation: a student learns from a teacher's label probabilities of each token beside
(or, for text without tags, instead of) the gold tags."""

from __future__ import annotations

from dataclasses import dataclass

import torch

SCHEDULES = ("constant", "linear")


@dataclass(frozen=True)
class Distillation:
    """The loss of a batch is (1 - w) x the gold loss + w x the cross-entropy of the teacher's label
    probabilities against the student's marginals; w is `weight` throughout (`constant`) or falls
    linearly to 0 over the run (`linear`: the teacher guides early, the gold tags decide late). A batch
    without gold tags (transfer text) learns from the teacher alone."""

    weight: float
    schedule: str = "constant"

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"a distillation weight is between 0 and 1, got {self.weight}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")

    def weight_at(self, progress: float) -> float:
        """The teacher's weight at `progress` (0 at the run's first step, 1 at its end)."""
        return (
            self.weight * (1.0 - min(max(progress, 0.0), 1.0)) if self.schedule == "linear" else self.weight
        )

    def loss(
        self,
        gold_loss: torch.Tensor,
        has_gold: bool,
        student: torch.Tensor,
        teacher: torch.Tensor,
        progress: float,
    ) -> torch.Tensor:
        """The mixed loss of a batch: `student` and `teacher` (batch, length, labels) probabilities, the
        teacher's zero where it gave none."""
        taught = soft_cross_entropy(student, teacher)
        if not has_gold:
            return taught
        weight = self.weight_at(progress)
        return (1.0 - weight) * gold_loss + weight * taught


def soft_cross_entropy(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over the tokens the teacher gave probabilities for of -sum_y q(y) log p(y)."""
    given = teacher.sum(dim=-1) > 0
    if not bool(given.any()):
        return student.sum() * 0.0
    return -(teacher[given] * student[given].clamp(min=1e-8).log()).sum(dim=-1).mean()
