"""`ner predict`: tag a file, raw text in several processes, or a corpus of shards on a Ray cluster."""

from __future__ import annotations

import argparse

from ner.cli.options import add_model_parser, add_workers, model_of, open_options, parse_workers
from ner.data_processing.formats import TOOL_FORMATS
from ner.utils.errors import NerError

RAY_FORMATS = ("jsonl", "parquet")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `predict` command and its options."""
    p = add_model_parser(sub, "predict", "tag a file", ())
    p.add_argument(
        "--output",
        required=True,
        help="file to write: CoNLL (token TAB tag); for raw-text input also .jsonl (entities with "
        "character offsets and scores), .html (entities highlighted) or an annotation tool's import "
        "format (--output-format)",
    )
    p.add_argument("--nbest", type=int, default=0, help="raw text: also the k best tag sequences")
    add_workers(
        p,
        "raw text: worker processes, each with its share of the cores (auto: all cores "
        "for inputs of 2 MB or more, else 1); with --ray, Ray actors (auto: as many as the "
        "cluster's CPUs hold)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="tag shards (--input: a .jsonl/.txt/.parquet file, folder or glob) on a Ray cluster "
        "into the folder --output, one output per shard; ADDRESS: a cluster's (or auto), else "
        "RAY_ADDRESS's, else a new one here. Needs the [distributed] extra",
    )
    p.add_argument(
        "--output-format",
        choices=(*RAY_FORMATS, *TOOL_FORMATS),
        help="raw text: pre-annotations to import into an annotation tool: label-studio (a JSON array "
        "of tasks with predictions and scores), doccano (JSONL), spacy (spaCy/Prodigy JSONL with "
        "spans and scores) or brat (--output is a folder of NAME.txt and NAME.ann); with --ray: the "
        "output shards' format, jsonl or parquet",
    )
    p.add_argument(
        "--cpus-per-worker", type=float, default=1, help="with --ray: CPUs (and threads) per actor"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Tag the input: on Ray, as raw text in worker processes, or as a token file in this one."""
    from ner.data_processing.readers import raw_format

    options = open_options(args)
    if args.ray is not None:
        tag_on_ray(args, options)
        return
    if args.output_format in RAY_FORMATS:
        raise NerError(f"--output-format {args.output_format}: names the shards' format with --ray")
    if raw_format(args.input, args.format):
        from ner.workflows.raw_text import predict_raw_file

        workers = parse_workers(args.workers)
        predict_raw_file(
            model_of(args),
            args.input,
            args.output,
            args.format,
            args.nbest,
            workers,
            args.output_format,
            **options,
        )
        return
    if args.output_format is not None:
        raise NerError(
            f"--output-format {args.output_format}: pre-annotations are made from raw text (.txt, .jsonl)"
        )
    if args.workers not in ("auto", "1"):
        raise NerError(
            "--workers: worker processes tag raw text (.txt, .jsonl); token files take one process"
        )
    from ner.workflows.prediction import predict_file

    predict_file(model_of(args), args.input, args.output, args.format, **options)


def tag_on_ray(args: argparse.Namespace, options: dict) -> None:
    """`ner predict --ray`: tag a corpus of shards on a Ray cluster."""
    try:
        from ner.distributed.ray_tagging import tag_corpus
    except ImportError as err:
        raise NerError(f"--ray needs Ray Data: pip install -e '.[distributed]' ({err})") from None
    if args.output_format not in (None, *RAY_FORMATS):
        raise NerError(f"--output-format {args.output_format}: --ray writes shards as jsonl or parquet")
    if args.format not in ("auto", "raw", "jsonl"):
        raise NerError("--ray: shards are .jsonl, .txt or .parquet files, read by their suffix")
    if args.cpus_per_worker <= 0:
        raise NerError(f"--cpus-per-worker must be above 0, got {args.cpus_per_worker}")
    workers = parse_workers(args.workers)
    tag_corpus(
        model_of(args),
        args.input,
        args.output,
        args.ray or None,
        workers,
        args.cpus_per_worker,
        args.output_format or "jsonl",
        args.nbest,
        **options,
    )
