"""Numeric precision for prediction, checked once per machine against this CPU by running the model."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ner.utils.cache import cache_dir
from ner.utils.config import PRECISIONS
from ner.utils.console import log
from ner.utils.io import atomic_write_json

# bfloat16 must save at least this fraction of float32's time to be worth its rounding.
MIN_SAVING = 0.05
CACHE_FILE = "precision.json"


def cpu_capability() -> str:
    """The vector instruction set PyTorch's CPU kernels run with here (e.g. AVX512, AVX2)."""
    return torch.backends.cpu.get_cpu_capability()


def cpu_name() -> str:
    """This machine's processor model, as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """The autocast context of `precision` on `device` (disabled for float32)."""
    return torch.autocast(device.type, torch.bfloat16, enabled=precision == "bfloat16")


def _seconds(run: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _kernel_key(model: nn.Module, device: torch.device, precision: str) -> str:
    """What decides whether a precision works and pays: the machine, its instruction set, torch's
    version and the model's layer types. Not the thread count: a run is one tagger in every process
    that opens it, whatever its share of the cores (worker processes tag exactly as one process does)."""
    layers = sorted({type(module).__name__ for module in model.modules()})
    parts = [device.type, cpu_name(), cpu_capability(), torch.__version__]
    return "|".join([*parts, precision, ",".join(layers)])


def probe(
    model: nn.Module, forwards: list[Callable[[], torch.Tensor]], device: torch.device, precision: str
) -> str:
    """`precision` if `model`'s own kernels run in it here and it is faster than float32 on batches of
    new shapes, else float32 with one line saying why (see `_try` for what `forwards` holds). Measured
    once per machine and kind of model, and remembered in the cache folder (`cache_dir`).

    Pass batches that take each kernel path: PyTorch runs an LSTM through oneDNN when all its sequences
    have one length, and through its own kernel otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return precision
    key = _kernel_key(model, device, precision)
    remembered = _read_cache()
    if key not in remembered:
        remembered[key] = list(_try(forwards, device, precision))
        _write_cache(remembered)
    chosen, reason = remembered[key]
    if reason:
        log.print(
            f"[yellow]note[/]: {precision} {reason} on this {device.type} ({cpu_capability()}); "
            f"predicting in {chosen}"
        )
    return chosen


def _read_cache() -> dict[str, list[str]]:
    """The probe results remembered on this machine (none if the file is missing or unreadable)."""
    try:
        data = json.loads((cache_dir() / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(remembered: dict[str, list[str]]) -> None:
    """Remember the probe results, or say in one line why they cannot be."""
    try:
        atomic_write_json(cache_dir() / CACHE_FILE, remembered)
    except OSError as err:
        log.print(f"[yellow]note[/]: cannot remember the precision probe in {cache_dir()} ({err})")


def _try(forwards: list[Callable[[], torch.Tensor]], device: torch.device, precision: str) -> tuple[str, str]:
    """(precision to use, why not the one asked for, or ''). `forwards[0]` checks that the reduced
    kernels run, `forwards[1]` warms both precisions up, and the rest, batches of shapes neither has
    seen, are timed once each in both: prediction rarely meets a batch shape twice, and some kernels
    (oneDNN's) pay for every new shape in reduced precision."""

    def run_all(batches: list[Callable[[], torch.Tensor]], reduced: bool) -> None:
        with autocast(device, precision if reduced else "float32"):
            for forward in batches:
                forward()

    try:
        run_all(forwards[:2], reduced=True)
        reduced_seconds = _seconds(lambda: run_all(forwards[2:], reduced=True))
    except RuntimeError as err:
        return "float32", f"does not run ({first_line(err)})"
    run_all(forwards[1:2], reduced=False)
    float_seconds = _seconds(lambda: run_all(forwards[2:], reduced=False))
    if reduced_seconds > (1.0 - MIN_SAVING) * float_seconds:
        return "float32", (
            f"is not faster than float32 on batches of new shapes ({reduced_seconds * 1e3:.0f} ms against "
            f"{float_seconds * 1e3:.0f} ms)"
        )
    return precision, ""


def first_line(error: Exception) -> str:
    """The first line of an error's message (or its type's name)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
