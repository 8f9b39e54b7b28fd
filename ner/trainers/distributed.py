"""The process group of data-parallel training: which process this is, and what the processes share.
One process (no group) is a world of one, where every operation is the identity."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this process validates, logs and writes the run's files."""
        return self.rank == 0

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        """The sums of `values` over all processes."""
        if self.size == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def broadcast(self, value: object) -> object:
        """The main process's `value`, in every process."""
        if self.size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: object) -> list[object] | None:
        """Every process's `value` in rank order, in the main process (None elsewhere)."""
        if self.size == 1:
            return [value]
        gathered = [None] * self.size if self.is_main else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def copy_from_main(self, module: torch.nn.Module) -> None:
        """Overwrite `module`'s weights and buffers with the main process's, in place."""
        if self.size == 1:
            return
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.size > 1:
            dist.barrier()


def current_world() -> World:
    """The process group's world if one is initialised, else a world of one."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def launched_world_size() -> int:
    """The number of processes a launcher such as torchrun started (1 when none did)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def join_process_group(device: str) -> torch.device:
    """Join the group a launcher set up in the environment (nccl on CUDA, else gloo); returns this
    process's device."""
    cuda = device != "cpu" and torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return torch.device("cuda", local_rank) if cuda else torch.device("cpu")


def leave_process_group() -> None:
    """Tear the process group down, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
