"""Notebook script: convert train/val/test JSON files into a saved Hugging Face DatasetDict."""

import argparse
import sys

from ner.cli import run_safely
from ner.workflows.corpus import create_dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--basepath-to-dataset-json-files", required=True)
    parser.add_argument("--path-to-store-hf-dataset", required=True)
    args = parser.parse_args()
    return run_safely(
        lambda: create_dataset([args.basepath_to_dataset_json_files], args.path_to_store_hf_dataset, "json")
    )


if __name__ == "__main__":
    sys.exit(main())
