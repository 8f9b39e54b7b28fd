"""Notebook script: train the word-level tokenizer on the dataset's train split."""

import argparse
import sys

from ner.cli import run_safely
from ner.utils.config import TokenizerConfig, load_config
from ner.workflows.training import train_tokenizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-path", required=True)
    parser.add_argument("--basepath-to-hf-dataset", required=True)
    parser.add_argument("--filepath-to-store-tokenizer", required=True)
    parser.add_argument("--min-freq", type=int)
    parser.add_argument("--remove-frac", type=float)
    args = parser.parse_args()

    def run() -> None:
        overrides = {
            k: v for k, v in (("min_freq", args.min_freq), ("remove_frac", args.remove_frac)) if v is not None
        }
        config = load_config(TokenizerConfig, [args.config_path], [overrides])
        train_tokenizer(args.basepath_to_hf_dataset, args.filepath_to_store_tokenizer, config)

    return run_safely(run)


if __name__ == "__main__":
    sys.exit(main())
