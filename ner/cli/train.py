"""`ner train`: train a tagger into a run folder, in one process or data-parallel."""

from __future__ import annotations

import argparse
from pathlib import Path

from ner.cli.options import PRESET_DIR, presets
from ner.utils.errors import ConfigError, NerError
from ner.utils.pairs import parse_pairs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `train` command and its options."""
    p = sub.add_parser("train", help="train a tagger into a run folder")
    p.add_argument("--dataset", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--output", required=True, help="the run folder")
    p.add_argument("--preset", choices=presets(), help="a shipped model preset")
    p.add_argument("--config", action="append", default=[], help="YAML config applied over the defaults")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override, e.g. model.encoder.hidden_dim=256",
    )
    p.add_argument(
        "--source-weights",
        metavar="SOURCE=W,...",
        help="on a dataset of several sources, show each source's sentences W times an epoch "
        "(train_and_eval.source_weights; 1 for a source not named, a fraction draws a share anew)",
    )
    p.add_argument(
        "--teacher",
        metavar="MODEL",
        help="distil: learn also from this model's label probabilities of each token (a run folder, an "
        "export or an installed package; distill.teacher, with distill.weight and distill.schedule)",
    )
    p.add_argument(
        "--unlabeled",
        action="append",
        default=[],
        metavar="FILE",
        help="raw text (.txt, .jsonl) the teacher tags for the student to learn from too; repeatable",
    )
    p.add_argument(
        "--init",
        help="start from a run folder (entity types and words it knows keep their weights, new ones start "
        "fresh; recorded in init.json), a .ckpt checkpoint (epoch, optimizer restored) or a model file",
    )
    p.add_argument(
        "--rehearse-data",
        metavar="DATASET",
        help="with --init RUN: a dataset with RUN's entity types (its training data, say) whose training "
        "sentences are mixed in (rehearse.share) and whose validation split measures RUN's types before "
        "and after (rehearse.data)",
    )
    p.add_argument(
        "--no-pseudo-labels",
        action="store_true",
        help="with --init RUN: do not tag RUN's types that the new data lacks on its texts "
        "(rehearse.pseudo_labels false; by default they are, so the new run keeps them)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --output from its last checkpoint"
    )
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --output")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="data-parallel training processes on this machine, each with its share of the cores (gloo "
        "on CPU, nccl on GPUs, one GPU each); the global batch is batch_size times N",
    )
    p.set_defaults(func=run)


def config_paths(args: argparse.Namespace) -> list[Path]:
    """The preset's config, then the user's files, in the order they apply over the defaults in code
    (which are the notebook's `scripts/configs/train_model.yml`)."""
    paths = [PRESET_DIR / f"{args.preset}.yml"] if args.preset else []
    return paths + [Path(p) for p in args.config]


def run(args: argparse.Namespace) -> None:
    """Train with the configs and overrides, here, in --nproc processes or in a launcher's group."""
    from ner.runtime.run_config import TrainConfig
    from ner.trainers.distributed import launched_world_size
    from ner.utils.config import load_config, parse_override
    from ner.workflows.training import train_model

    overrides = [parse_override(o) for o in args.set]
    if args.teacher or args.unlabeled:
        teacher = {"teacher": args.teacher} if args.teacher else {}
        overrides.append({"distill": teacher | ({"unlabeled": args.unlabeled} if args.unlabeled else {})})
    rehearse = {"data": args.rehearse_data} if args.rehearse_data else {}
    if args.no_pseudo_labels:
        rehearse["pseudo_labels"] = False
    if rehearse:
        overrides.append({"rehearse": rehearse})
    if args.source_weights:
        overrides.append({"train_and_eval": {"source_weights": source_weights(args.source_weights)}})
    for override in overrides:
        for key in override.get("tokenizer") or {}:
            raise ConfigError(
                f"tokenizer.{key}",
                "tokenizer settings come from the --tokenizer file; build it with `ner train-tokenizer`",
            )
    config = load_config(TrainConfig, config_paths(args), overrides)
    train_args = {
        "dataset_dir": args.dataset,
        "tokenizer_file": args.tokenizer,
        "run_dir": args.output,
        "init_from": args.init,
        "resume": args.resume,
        "overwrite": args.overwrite,
        "progress": not args.no_progress,
    }
    launched = launched_world_size()
    if args.nproc < 1:
        raise NerError(f"--nproc takes a number of processes (1 or more), got {args.nproc}")
    if args.nproc > 1 and config.distill.teacher is not None:
        raise NerError("--teacher: distillation trains in one process; drop --nproc")
    if args.nproc > 1 and launched > 1:
        raise NerError("--nproc: this process was started by a launcher (torchrun) already; drop --nproc")
    if args.nproc > 1:
        from ner.distributed.launcher import train_data_parallel

        train_data_parallel(args.nproc, config, train_args)
    elif launched > 1:
        from ner.distributed.launcher import train_in_group

        train_in_group(config, None, train_args)
    else:
        train_model(config, **train_args)


def source_weights(text: str) -> dict[str, float]:
    """`--source-weights` as a mapping: 'wikineural-en=1,conll2003-en=0.5'."""
    weights = {}
    for name, value in parse_pairs(text.split(","), "--source-weights", "SOURCE=NUMBER,...").items():
        try:
            weights[name] = float(value)
        except ValueError:
            raise NerError(f"--source-weights: the weight of {name} is a number, got {value!r}") from None
    return weights
