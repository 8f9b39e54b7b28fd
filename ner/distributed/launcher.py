"""Data-parallel training: `ner train --nproc N` starts N processes on this machine with
torch.distributed's elastic launcher (the engine behind torchrun); under torchrun, across machines,
each process it started joins the group itself. Every process trains its share of each epoch."""

from __future__ import annotations

import logging
import re
import uuid

import torch
import torch.distributed
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from ner.runtime.run_config import TrainConfig
from ner.runtime.workers import available_cores
from ner.trainers.distributed import current_world, join_process_group, leave_process_group
from ner.trainers.tracker import ExperimentTracker
from ner.utils.console import log
from ner.utils.errors import NerError
from ner.workflows.training import check_run_folder, train_model


def train_in_group(config: TrainConfig, threads: int | None, train_args: dict) -> None:
    """One training process: join the group its launcher set up, train its share, leave the group. Only
    the main process prints."""
    if threads is not None:
        torch.set_num_threads(threads)
    join_process_group(config.trainer.device)
    try:
        world = current_world()
        log.quiet = not world.is_main
        if world.is_main:
            log.print(f"data-parallel training: {world.size} processes")
        train_model(config, **train_args)
        # Every process is done before any tears the group down (gloo can abort a process whose peer
        # leaves while it is still closing its side); after a failure the launcher stops them all.
        torch.distributed.barrier()
    finally:
        leave_process_group()


def train_data_parallel(nproc: int, config: TrainConfig, train_args: dict) -> None:
    """Train in `nproc` processes on this machine, each with its share of the cores (`train_args` as
    `train_model` takes them)."""
    launch = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"ner-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.1,
        start_method="spawn",
    )
    check_run_folder(ExperimentTracker(train_args["run_dir"]), train_args["resume"], train_args["overwrite"])
    threads = max(1, available_cores() // nproc)
    # The launcher logs a failed process's whole traceback; the one line below says what failed.
    quiet = [logging.getLogger(name) for name in LAUNCHER_LOGGERS]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        elastic_launch(launch, train_in_group)(config, threads, train_args)
    except ChildFailedError as err:
        rank, failure = err.get_first_failure()
        raise NerError(f"training process {rank} failed: {failure_message(failure.message)}") from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


LAUNCHER_LOGGERS = ("torch.distributed.elastic", "torch.multiprocessing.spawn")


def failure_message(message: object) -> str:
    """The exception a failed process recorded, without its traceback (and, for the toolkit's own
    errors, without their class name)."""
    text = message.get("message", "") if isinstance(message, dict) else str(message)
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    if not lines:
        return "no error was recorded"
    return re.sub(r"^ner\.utils\.errors\.\w+: ", "", lines[-1])
