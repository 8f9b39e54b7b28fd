"""Viterbi decoding of a CRF head: torch (the head's own, used by the torch Predictor) against numpy (the
tag chain's, used by exported models), on the same emissions, in one run.

    python -m benchmarks.decode [--batch 256] [--rounds 20]

Emissions: random scores for batches of sentences of 5 to 60 tokens under BIO and BIOES with the
four CoNLL types. Prints each implementation's best time per batch, their ratio, and whether the paths
agree.
"""

from __future__ import annotations

import argparse
import time

import torch

from ner.data_processing.constants import DEFAULT_LABELS
from ner.inference.precision import cpu_capability
from ner.nn.heads.crf import CRF
from ner.nn.tags.chain import left_aligned, viterbi


def best_time(run: object, rounds: int) -> float:
    """The best of `rounds` timings of `run()`, in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def compare(scheme: str, batch: int, rounds: int, generator: torch.Generator) -> str:
    """One line: both decoders' best time on one batch of random emissions under `scheme`."""
    crf = CRF(DEFAULT_LABELS, scheme)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    tags = crf.transitions.shape[0]
    lengths = torch.randint(5, 61, (batch,), generator=generator)
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    emissions = torch.randn(batch, mask.shape[1], tags, generator=generator) * 3
    transitions, start, end = (x.detach().numpy() for x in crf._scores())
    scores, real = emissions.numpy(), mask.numpy()

    def with_torch() -> list[list[int]]:
        paths = crf.viterbi(emissions, mask)
        return [row[:n] for row, n in zip(paths.tolist(), lengths.tolist(), strict=True)]

    def with_numpy() -> list[list[int]]:
        return viterbi(left_aligned(scores, real), transitions, start, end, real.sum(axis=1))

    agree = with_torch() == with_numpy()
    torch_ms, numpy_ms = best_time(with_torch, rounds), best_time(with_numpy, rounds)
    return (
        f"{scheme:5} {tags:2} tags: torch {torch_ms:7.2f} ms, numpy {numpy_ms:7.2f} ms,"
        f" numpy/torch {numpy_ms / torch_ms:.2f}x, same paths: {agree}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads, batch {args.batch}")
    generator = torch.Generator().manual_seed(0)
    for scheme in ("bio", "bioes"):
        print(compare(scheme, args.batch, args.rounds, generator))


if __name__ == "__main__":
    main()
