"""Notebook script: predict the test split with the given FFNN and/or RNN and zip the submission."""

import argparse
import sys
from pathlib import Path

from ner.cli import run_safely
from ner.inference.run import open_run
from ner.runtime.folder import RunFiles
from ner.workflows.submission import make_submission


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--basepath-to-hf-dataset", required=True)
    parser.add_argument("--tokenizer-filepath", required=True)
    parser.add_argument("--basepath-to-store-submission", required=True)
    for name in ("ffnn", "rnn"):
        parser.add_argument(f"--{name}-config-path")
        parser.add_argument(f"--pretrained-{name}-checkpoint-or-model-filepath")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--leaderboard-submission", action="store_true")
    kind.add_argument("--milestone-submission", action="store_true")
    parser.add_argument("--net-ids")
    args = parser.parse_args()

    def run() -> None:
        models = {}
        for name in ("ffnn", "rnn"):
            config = getattr(args, f"{name}_config_path")
            weights = getattr(args, f"pretrained_{name}_checkpoint_or_model_filepath")
            if bool(config) != bool(weights):
                parser.error(
                    f"--{name}-config-path and --pretrained-{name}-checkpoint-or-model-filepath go together"
                )
            if config:
                models[name] = open_run(RunFiles(Path(config), Path(args.tokenizer_filepath), Path(weights)))
        kind = (
            "leaderboard"
            if args.leaderboard_submission
            else "milestone"
            if args.milestone_submission
            else "final"
        )
        make_submission(
            args.basepath_to_hf_dataset, args.basepath_to_store_submission, models, kind, args.net_ids
        )

    return run_safely(run)


if __name__ == "__main__":
    sys.exit(main())
