"""Work spread over worker processes, each set up once (opening a run itself), results in input order."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

from ner.utils.errors import NerError

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Each worker's share of the cores (at least one thread)."""
    return max(1, available_cores() // workers)


@dataclass(frozen=True)
class WorkerSetup:
    """What each worker process runs before any work, `function(*args, threads)` (`threads` its share
    of the cores), in a process forked from a server that has imported the `preload` modules."""

    function: Callable[..., None]
    args: tuple = ()
    preload: tuple[str, ...] = ()


def worker_context(preload: list[str]) -> multiprocessing.context.BaseContext:
    """The start method of worker processes: forked from a clean server process that has imported the
    `preload` modules but never run a parallel region, so no thread pool state is inherited (forking a
    process that has used OpenMP can hang the child)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return context


def start_worker_server(preload: list[str]) -> None:
    """Start the server that worker processes fork from now, so that its imports overlap with the
    caller's own start-up instead of following it."""
    worker_context(preload)
    multiprocessing.forkserver.ensure_running()


def ordered_map(
    work: Callable[[T], R],
    chunks: Iterable[T],
    workers: int,
    setup: WorkerSetup,
) -> Iterator[R]:
    """`work(chunk)` of each chunk in `workers` processes, yielded in input order. Each process runs
    `setup` first, with its share of the cores. At most two chunks per
    worker are in flight, so memory stays flat whatever the input's size. A chunk that fails stops the
    whole map with its error; a worker that dies stops it with a NerError."""
    context = worker_context(list(setup.preload))
    pending: deque[Future] = deque()
    iterator = iter(chunks)
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=setup.function,
        initargs=(*setup.args, threads_per_worker(workers)),
    ) as pool:
        try:
            for chunk in iterator:
                pending.append(pool.submit(work, chunk))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool as err:
            raise NerError(
                f"a worker process stopped unexpectedly ({err}); nothing more was tagged"
            ) from None
        finally:
            for future in pending:
                future.cancel()
