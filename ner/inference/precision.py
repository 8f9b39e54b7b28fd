"""Numeric precision for prediction, checked once per process against this CPU by running the model."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from ner.utils.config import PRECISIONS
from ner.utils.console import log

PROBE_REPEATS = 3
# bfloat16 must save at least this fraction of float32's time to be worth its rounding.
MIN_SAVING = 0.05

_probed: dict[tuple, tuple[str, str]] = {}


def cpu_capability() -> str:
    """The vector instruction set PyTorch's CPU kernels run with here (e.g. AVX512, AVX2)."""
    return torch.backends.cpu.get_cpu_capability()


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """The autocast context of `precision` on `device` (disabled for float32)."""
    return torch.autocast(device.type, torch.bfloat16, enabled=precision == "bfloat16")


def _seconds(run: Callable[[], object]) -> float:
    """Fastest of a few timed calls, after one untimed warm-up."""
    run()
    times = []
    for _ in range(PROBE_REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _kernel_key(model: nn.Module, device: torch.device, precision: str) -> tuple:
    """What decides whether a precision works: the device, the CPU's instruction set and the layer types."""
    layers = sorted({type(module).__name__ for module in model.modules()})
    return (device.type, cpu_capability(), precision, tuple(layers))


def probe(
    model: nn.Module, forwards: list[Callable[[], torch.Tensor]], device: torch.device, precision: str
) -> str:
    """`precision` if `model`'s own kernels run in it here on every batch of `forwards` and it is faster
    than float32 on the first, else float32 with one line saying why. Probed once per kind of model.

    Pass batches that take each kernel path: PyTorch runs an LSTM through oneDNN when all its sequences
    have one length, and through its own kernel otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return precision
    key = _kernel_key(model, device, precision)
    if key not in _probed:
        _probed[key] = _try(forwards, device, precision)
        chosen, reason = _probed[key]
        if reason:
            _note(device, precision, reason, chosen)
    return _probed[key][0]


def fall_back(model: nn.Module, device: torch.device, precision: str, error: RuntimeError) -> str:
    """float32 from now on for this kind of model, after `precision` failed on a batch the probe missed."""
    reason = f"does not run ({_first_line(error)})"
    _probed[_kernel_key(model, device, precision)] = ("float32", reason)
    _note(device, precision, reason, "float32")
    return "float32"


def _note(device: torch.device, precision: str, reason: str, chosen: str) -> None:
    log.print(
        f"[yellow]note[/]: {precision} {reason} on this {device.type} ({cpu_capability()}); predicting in {chosen}"
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _try(forwards: list[Callable[[], torch.Tensor]], device: torch.device, precision: str) -> tuple[str, str]:
    """(precision to use, why not the one asked for, or '')."""

    def reduced(forward: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
        def run() -> torch.Tensor:
            with autocast(device, precision):
                return forward()

        return run

    try:
        for forward in forwards[1:]:
            reduced(forward)()
        reduced_seconds = _seconds(reduced(forwards[0]))
    except RuntimeError as err:
        return "float32", f"does not run ({_first_line(err)})"
    float_seconds = _seconds(forwards[0])
    if reduced_seconds > (1.0 - MIN_SAVING) * float_seconds:
        return "float32", (
            f"is not faster than float32 ({reduced_seconds * 1e3:.0f} ms against {float_seconds * 1e3:.0f} ms "
            "a batch)"
        )
    return precision, ""
