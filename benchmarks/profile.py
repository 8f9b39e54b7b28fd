"""Where raw-text prediction spends its time: `ner.load(RUN).pipe` under cProfile, each step's share.

    python -m benchmarks.profile RUN_DIR [--corpus ../shared/data/wikineural-en] [--texts 500]

Texts: the corpus's test sentences detokenized, 8 to a paragraph. Each step's cumulative time over the
whole `pipe` (steps nest: the BiLSTM and the character encoder are part of the network).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from pathlib import Path

import torch

import ner
from benchmarks.predict import DATA, paragraphs
from ner.data_processing.readers import read_conll
from ner.inference.precision import cpu_capability

STEPS = {
    ("text.py", "pipe"): "spaCy tokenizer and sentencizer, tokens with offsets",
    ("data_collator.py", "__call__"): "collate",
    ("predictor.py", "forward"): "network",
    ("recurrent.py", "forward"): "  the recurrent encoder",
    ("char_cnn.py", "forward"): "  the character CNN",
    ("char_bilstm.py", "forward"): "  the character BiLSTM",
    ("predictor.py", "decode"): "decode (Viterbi or arg-max)",
    ("predictor.py", "chains"): "forward-backward (scores)",
    ("predictor.py", "finish"): "finish (labels, document consistency)",
    ("pipeline.py", "entities"): "entities and span probabilities",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run")
    parser.add_argument("--corpus", type=Path, default=DATA)
    parser.add_argument("--texts", type=int, default=500)
    args = parser.parse_args()
    texts = paragraphs([s.tokens for s in read_conll(args.corpus / "test.tokens").sentences])[: args.texts]
    pipeline = ner.load(args.run)
    list(pipeline.pipe(texts[:50]))
    profile = cProfile.Profile()
    profile.enable()
    list(pipeline.pipe(texts, batch_size=64))
    profile.disable()
    stats = pstats.Stats(profile).stats
    times = {(path.rsplit("/", 1)[-1], name): value[3] for (path, _, name), value in stats.items()}
    total = times[("pipeline.py", "pipe")]
    print(
        f"{args.run}: {len(texts)} texts, {total:.2f} s in pipe, precision {pipeline.model.predictor.precision}, "
        f"CPU capability {cpu_capability()}, {torch.get_num_threads()} threads"
    )
    for key, step in STEPS.items():
        if key in times:
            print(f"{step:55s} {times[key]:6.2f} s {100 * times[key] / total:5.1f}%")


if __name__ == "__main__":
    main()
