"""Notebook script: train an FFNN or RNN tagger; results go to BASEPATH/EXPERIMENT-NAME."""

import argparse
import os
import sys

from ner.cli import run_safely
from ner.runtime.run_config import TrainConfig
from ner.utils.config import load_config, read_yaml
from ner.workflows.training import train_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-path", required=True)
    parser.add_argument("--tokenizer-config-path", required=True)
    parser.add_argument("--basepath-to-hf-dataset", required=True)
    parser.add_argument("--tokenizer-filepath", required=True)
    parser.add_argument("--model-type", choices=("ffnn", "rnn"))
    parser.add_argument("--num-layers", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--num-epochs", type=int)
    parser.add_argument("--basepath-to-store-results", required=True)
    parser.add_argument("--experiment-name", required=True)
    parser.add_argument("--pretrained-checkpoint-or-model-filepath")
    args = parser.parse_args()

    def run() -> None:
        flags = {
            "model": {"model": args.model_type, "num_layers": args.num_layers},
            "train_and_eval": {"batch_size": args.batch_size, "num_epochs": args.num_epochs},
        }
        flags = {
            section: {k: v for k, v in values.items() if v is not None} for section, values in flags.items()
        }
        tokenizer = {"tokenizer": read_yaml(args.tokenizer_config_path)}
        config = load_config(TrainConfig, [args.config_path], [tokenizer, flags])
        run_dir = os.path.join(args.basepath_to_store_results, args.experiment_name)
        train_model(
            config,
            args.basepath_to_hf_dataset,
            args.tokenizer_filepath,
            run_dir,
            init_from=args.pretrained_checkpoint_or_model_filepath,
            overwrite=True,
        )

    return run_safely(run)


if __name__ == "__main__":
    sys.exit(main())
