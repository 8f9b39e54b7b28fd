"""Speed benchmark: the notebook's RNN, step-by-step against the fused kernel, in one run.

    python -m benchmarks.speed [--batch 128] [--length 30] [--repeats 5]

Prints the seconds per training step (forward + backward) of each form and their ratio.
"""

from __future__ import annotations

import argparse
import time

import torch

from ner.inference.precision import cpu_capability
from ner.nn.models.rnn import RNN


def seconds_per_step(model: RNN, inputs: torch.Tensor, repeats: int) -> float:
    """Median seconds of one forward and backward pass."""
    times = []
    for _ in range(repeats + 1):
        model.zero_grad()
        start = time.perf_counter()
        model(inputs).sum().backward()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--length", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = RNN(300, 512, 9, num_layers=2)
    inputs = torch.randn(args.batch, args.length, 300)
    results = {}
    for fused in (False, True):
        model.fused = fused
        results[fused] = seconds_per_step(model, inputs, args.repeats)
    print(
        f"notebook RNN (300 -> 2 x 512 tanh), batch {args.batch} x {args.length} tokens, "
        f"{torch.get_num_threads()} threads, float32, CPU capability {cpu_capability()}"
    )
    print(f"  step-by-step: {results[False]:.3f} s/step")
    print(f"  fused kernel: {results[True]:.3f} s/step")
    print(f"  speed-up:     {results[False] / results[True]:.2f}x")


if __name__ == "__main__":
    main()
