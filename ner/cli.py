"""The `ner` command: create-dataset, train-tokenizer, train, predict, evaluate, submit, serve, report, inspect,
plot-data."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from ner.data_processing.augmentation import CASINGS
from ner.utils.config import PRECISIONS
from ner.utils.errors import ConfigError, NerError, require_training

CONFIG_DIR = Path(__file__).resolve().parents[1] / "scripts" / "configs"
AUTO_WORKERS_BYTES = 1_000_000
PRESET_DIR = CONFIG_DIR / "presets"


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so temporary files are cleaned up on the way out."""
    raise KeyboardInterrupt


TRAINING_COMMANDS = {
    "create-dataset",
    "train-tokenizer",
    "train",
    "evaluate",
    "submit",
    "inspect",
    "plot-data",
    "package",
    "report",
    "export",
    "calibrate",
}


def run_safely(main: Callable[[], object]) -> int:
    """Run a command, turning toolkit errors into one line on stderr and exit status 2."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main()
    except NerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: files written so far are complete; resume training with --resume", file=sys.stderr
        )
        return 130
    return 0


def presets() -> list[str]:
    """Names of the shipped model presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yml"))


def config_paths(args: argparse.Namespace) -> list[Path]:
    """The base config, then the preset's, then the user's files, in the order they apply."""
    paths = [CONFIG_DIR / "train_model.yml"]
    if args.preset:
        paths.append(PRESET_DIR / f"{args.preset}.yml")
    return paths + [Path(p) for p in args.config]


def cmd_create_dataset(args: argparse.Namespace) -> None:
    from ner.workflows.corpus import create_dataset

    create_dataset(args.input_dir, args.output_dir, args.format, args.max_length, args.misaligned)


def cmd_train_tokenizer(args: argparse.Namespace) -> None:
    from ner.utils.config import TokenizerConfig, load_config, read_yaml
    from ner.workflows.training import train_tokenizer

    overrides = [read_yaml(PRESET_DIR / f"{args.preset}.yml").get("tokenizer", {})] if args.preset else []
    flags = {
        "min_freq": args.min_freq,
        "remove_frac": args.remove_frac,
        "lowercase": args.lowercase or None,
        "case_backoff": args.case_backoff or None,
    }
    overrides.append({k: v for k, v in flags.items() if v is not None})
    config = load_config(TokenizerConfig, [args.config or CONFIG_DIR / "train_tokenizer.yml"], overrides)
    train_tokenizer(args.dataset, args.output, config)


def cmd_train(args: argparse.Namespace) -> None:
    from ner.trainers.distributed import launched_world_size
    from ner.utils.config import TrainConfig, load_config, parse_override
    from ner.workflows.training import train_model

    overrides = [parse_override(o) for o in args.set]
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
    if args.nproc > 1 and launched > 1:
        raise NerError("--nproc: this process was started by a launcher (torchrun) already; drop --nproc")
    if args.nproc > 1:
        from ner.distributed.training import train_data_parallel

        train_data_parallel(args.nproc, config, train_args)
    elif launched > 1:
        from ner.distributed.training import train_in_group

        train_in_group(config, None, train_args)
    else:
        train_model(config, **train_args)


def open_options(args: argparse.Namespace) -> dict:
    """How `predict` and `evaluate` open the model: epoch, document consistency, precision, thresholds."""
    from ner.utils.thresholds import parse_min_score

    return {
        "epoch": args.epoch,
        "document_consistency": args.document_consistency,
        "precision": args.precision,
        "min_score": None if args.min_score is None else parse_min_score(args.min_score),
    }


def cmd_predict(args: argparse.Namespace) -> None:
    from ner.data_processing.readers import raw_format

    options = open_options(args)
    if args.ray is not None:
        tag_on_ray(args, options)
        return
    if args.output_format is not None:
        raise NerError("--output-format: names the shards' format with --ray; a single file's is its suffix")
    if raw_format(args.input, args.format):
        workers = workers_for(args.workers, Path(args.input))
        if workers > 1:
            from ner.runtime.folder import worker_preload
            from ner.runtime.workers import start_worker_server

            start_worker_server(worker_preload(args.experiment))
        from ner.workflows.raw_text import predict_raw_file

        predict_raw_file(
            args.experiment, args.input, args.output, args.format, args.nbest, workers, **options
        )
        return
    if args.workers not in ("auto", "1"):
        raise NerError(
            "--workers: worker processes tag raw text (.txt, .jsonl); token files take one process"
        )
    from ner.workflows.prediction import predict_file

    predict_file(args.experiment, args.input, args.output, args.format, **options)


def tag_on_ray(args: argparse.Namespace, options: dict) -> None:
    """`ner predict --ray`: tag a corpus of shards on a Ray cluster."""
    try:
        from ner.distributed.corpus import tag_corpus
    except ImportError as err:
        raise NerError(f"--ray needs Ray Data: pip install -e '.[distributed]' ({err})") from None
    if args.format not in ("auto", "raw", "jsonl"):
        raise NerError("--ray: shards are .jsonl, .txt or .parquet files, read by their suffix")
    if args.cpus_per_worker <= 0:
        raise NerError(f"--cpus-per-worker must be above 0, got {args.cpus_per_worker}")
    workers = None if args.workers == "auto" else workers_for(args.workers, None)
    tag_corpus(
        args.experiment,
        args.input,
        args.output,
        args.ray or None,
        workers,
        args.cpus_per_worker,
        args.output_format or "jsonl",
        args.nbest,
        **options,
    )


def workers_for(value: str, input_path: Path | None) -> int:
    """The worker processes asked for, or for `auto` every core when the input file is large enough to
    pay for starting them (1 MB), else one (and one where there is no input file: the service)."""
    from ner.runtime.workers import available_cores

    if value == "auto":
        large = input_path is not None and input_path.is_file()
        large = large and input_path.stat().st_size >= AUTO_WORKERS_BYTES
        return available_cores() if large else 1
    if not value.isdigit() or int(value) < 1:
        raise NerError(f"--workers takes a number of processes (1 or more) or auto, got {value!r}")
    return int(value)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from ner.utils.io import atomic_write_json
    from ner.workflows.evaluation import Scoring, evaluate_file

    target = args.target_precision
    if target is not None and not 0.0 < target <= 1.0:
        raise NerError(f"--target-precision: a precision in (0, 1], got {target}")
    if target is not None and not args.suggest_thresholds:
        raise NerError(
            "--target-precision: the precision suggested thresholds reach; add --suggest-thresholds"
        )
    scoring = Scoring(args.plot, args.suggest_thresholds, target)
    result = evaluate_file(
        args.experiment, args.input, args.format, args.casing, scoring, **open_options(args)
    )
    if args.json:
        atomic_write_json(args.json, result)


def cmd_calibrate(args: argparse.Namespace) -> None:
    from ner.workflows.calibration import calibrate_model

    calibrate_model(args.model, args.dataset, args.split)


def cmd_submit(args: argparse.Namespace) -> None:
    from ner.inference.run import open_run
    from ner.workflows.submission import make_submission

    models = {}
    for spec in args.model:
        name, _, run_dir = spec.partition("=")
        if not run_dir:
            raise NerError(f"--model takes NAME=RUN_DIR, got {spec!r}")
        models[name] = open_run(run_dir, precision=args.precision)
    make_submission(args.dataset, args.output, models, args.kind, args.net_ids)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from ner.serve.app import Limits, create_app
    from ner.utils.console import log
    from ner.utils.thresholds import parse_min_score

    limits = Limits(max_chars=args.max_chars, max_texts=args.max_texts)
    where = f"http://{args.host}:{args.port}"
    workers = workers_for(args.workers, None)
    min_score = None if args.min_score is None else parse_min_score(args.min_score)
    if workers == 1:
        app = create_app(args.experiment, limits, precision=args.precision, min_score=min_score)
        log.print(f"serving {args.experiment} on {where} (page at /, API docs at /docs)")
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30)
        return
    import os

    from ner.inference.opening import open_model
    from ner.runtime.workers import threads_per_worker
    from ner.serve.app import worker_settings
    from ner.serve.workers import serve_in_workers

    model = open_model(args.experiment, precision=args.precision, min_score=min_score)
    options = {"precision": model.predictor.precision, "min_score": model.predictor.min_score}
    os.environ.update(worker_settings(args.experiment, limits, options, threads_per_worker(workers)))
    del model
    log.print(
        f"serving {args.experiment} on {where} with {workers} worker processes (page at /, docs at /docs)"
    )
    serve_in_workers("ner.serve.app:app_from_environment", workers, args.host, args.port)


def cmd_inspect(args: argparse.Namespace) -> None:
    from ner.inference.run import open_run
    from ner.utils.visualize import inspect_preds, visualize_activations

    run = open_run(args.experiment, args.epoch, precision="float32")
    tokens = args.text.split()
    labels = args.labels.split() if args.labels else None
    if labels is not None and len(labels) != len(tokens):
        raise NerError(f"--labels has {len(labels)} tags for {len(tokens)} tokens")
    model, predictor = run.model, run.predictor
    inspect_preds(run.tokenizer, model, tokens, labels, run.id2label, predictor=predictor)
    if args.activations:
        name = args.module or next(n for n, _ in model.named_modules() if n.endswith("head.projection"))
        try:
            module = model.get_submodule(name)
        except AttributeError:
            names = ", ".join(n for n, m in model.named_modules() if n and not list(m.children()))
            raise NerError(f"--module {name!r} is not a submodule of this model; try {names}") from None
        visualize_activations(
            run.tokenizer,
            model,
            module,
            tokens,
            labels,
            id2label=run.id2label,
            output_path=args.activations,
            predictor=predictor,
        )
        print(f"activations of {name} -> {args.activations}")


def cmd_plot_data(args: argparse.Namespace) -> None:
    from ner.data_processing.dataset import load_dataset
    from ner.utils.visualize import plot_sentence_lengths, plot_vocab_size

    dataset = load_dataset(args.dataset)
    out = Path(args.output_dir)
    plot_vocab_size(dataset, out / "vocab_size.png", args.min_freq_for_remove_frac)
    plot_sentence_lengths(dataset, out / "sentence_lengths.png")
    print(f"plots written to {out}/vocab_size.png and {out}/sentence_lengths.png")


def cmd_package(args: argparse.Namespace) -> None:
    from ner.workflows.package import package_run

    package_run(args.run, args.name, args.version, args.output)


def cmd_export(args: argparse.Namespace) -> None:
    from ner.export.onnx import export_run

    export_run(args.run, args.output, args.format, args.quantize, args.dataset)


def cmd_report(args: argparse.Namespace) -> None:
    from ner.workflows.report import report_runs

    report_runs(args.runs)


def add_precision(parser: argparse.ArgumentParser) -> None:
    """The --precision option of the commands that predict."""
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="numeric precision of the network (default: the run's predict.precision); bfloat16 is used "
        "only where a one-time probe finds this CPU runs the model in it faster, else float32",
    )


def add_min_score(parser: argparse.ArgumentParser, default: str) -> None:
    """The --min-score option of the commands that tag."""
    parser.add_argument(
        "--min-score",
        metavar="P | TYPE=P,...",
        help="drop entities scored below P (in [0, 1)), for every type or per named type, e.g. "
        f"PER=0.6,ORG=0.4 (types not named are kept); their tokens become O (default: {default})",
    )


def add_workers(parser: argparse.ArgumentParser, text: str) -> None:
    """The --workers option of the commands that can tag in several processes."""
    parser.add_argument("--workers", default="auto", metavar="N", help=text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `ner` command."""
    parser = argparse.ArgumentParser(prog="ner", description="Neural named-entity recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "create-dataset",
        help="read a corpus folder (JSON, CoNLL or span-annotated text) into a saved dataset",
    )
    p.add_argument(
        "input_dir",
        help="folder with train/val/test .json or .conll (test may be .tokens), or annotated texts: "
        ".jsonl (doccano, spaCy/Prodigy, ner predict's output), Label Studio .json, brat folders",
    )
    p.add_argument("output_dir")
    p.add_argument(
        "--format",
        choices=("auto", "json", "conll", "doccano", "label-studio", "spacy", "brat", "ner-jsonl"),
        default="auto",
        help="auto: from the files' names and content",
    )
    p.add_argument(
        "--misaligned",
        choices=("error", "expand", "contract", "skip"),
        default="error",
        help="annotated texts: a span that does not fit the tokens stops with FILE:LINE (error), or is "
        "grown to the tokens it touches, shrunk to those it covers, or skipped; counted per type",
    )
    p.add_argument("--max-length", type=int, default=None, help="truncate longer sentences (counted)")
    p.set_defaults(func=cmd_create_dataset)

    p = sub.add_parser("train-tokenizer", help="build the word vocabulary from the train split")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output", required=True, help="tokenizer JSON file to write")
    p.add_argument("--config", help="tokenizer YAML (default: the shipped train_tokenizer.yml)")
    p.add_argument("--preset", choices=presets(), help="use the tokenizer settings of a model preset")
    p.add_argument("--min-freq", type=int)
    p.add_argument("--remove-frac", type=float)
    p.add_argument("--lowercase", action="store_true")
    p.add_argument(
        "--case-backoff",
        action="store_true",
        help="look a word's form the vocabulary lacks up by its most frequent casing there",
    )
    p.set_defaults(func=cmd_train_tokenizer)

    p = sub.add_parser("train", help="train a tagger into a run folder")
    p.add_argument("--dataset", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--output", required=True, help="the run folder")
    p.add_argument("--preset", choices=presets(), help="a shipped model preset")
    p.add_argument("--config", action="append", default=[], help="YAML config applied over the defaults")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. model.hidden_dim=256"
    )
    p.add_argument(
        "--init",
        help="start from a run folder (entity types and words it knows keep their weights, new ones start "
        "fresh; recorded in init.json), a .ckpt checkpoint (epoch, optimizer restored) or a model file",
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
    p.set_defaults(func=cmd_train)

    for name, func, text in (
        ("predict", cmd_predict, "tag a file"),
        ("evaluate", cmd_evaluate, "score a labelled file"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--experiment", required=True, help="a run folder written by `ner train`")
        p.add_argument("--input", required=True)
        spans = ("doccano", "label-studio", "spacy", "brat", "ner-jsonl") if name == "evaluate" else ()
        p.add_argument(
            "--format",
            choices=("auto", "json", "conll", "tokens", "raw", "jsonl", *spans),
            default="auto",
            help="input format; auto: .txt raw text (a document a line), .jsonl objects with a text field, "
            ".json the notebook's JSON, .tokens a sentence a line, else CoNLL"
            + (
                "; annotated texts (doccano, Label Studio, spaCy, brat, ner's JSONL: by content) are "
                "scored by exact character spans"
                if spans
                else ""
            ),
        )
        p.add_argument("--epoch", type=int, help="use this epoch's checkpoint instead of the best model")
        p.add_argument(
            "--document-consistency",
            action=argparse.BooleanOptionalAction,
            help="one type per entity phrase within each -DOCSTART- document (default: the run's "
            "predict.document_consistency)",
        )
        add_precision(p)
        add_min_score(p, "the run's predict.min_score")
        if name == "predict":
            p.add_argument(
                "--output",
                required=True,
                help="file to write: CoNLL (token TAB tag); for raw-text input also .jsonl (entities with "
                "character offsets and scores) or .html (entities highlighted)",
            )
            p.add_argument("--nbest", type=int, default=0, help="raw text: also the k best tag sequences")
            add_workers(
                p,
                "raw text: worker processes, each with its share of the cores (auto: all cores "
                "for inputs of 1 MB or more, else 1); with --ray, Ray actors (auto: as many as the "
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
                "--output-format", choices=("jsonl", "parquet"), help="with --ray: the output shards' format"
            )
            p.add_argument(
                "--cpus-per-worker", type=float, default=1, help="with --ray: CPUs (and threads) per actor"
            )
        else:
            p.add_argument("--json", help="also write the metrics to this JSON file")
            p.add_argument(
                "--casing",
                choices=CASINGS,
                default="as-is",
                help="score the text as written, lower-cased or upper-cased (tags unchanged)",
            )
            p.add_argument("--plot", metavar="PNG", help="draw the entity scores' reliability diagram here")
            p.add_argument(
                "--suggest-thresholds",
                action="store_true",
                help="propose per-type --min-score thresholds from this (validation) file: those that "
                "maximise F1, or with --target-precision the lowest that reach it",
            )
            p.add_argument("--target-precision", type=float, metavar="P")
        p.set_defaults(func=func)

    p = sub.add_parser("submit", help="predict a dataset's test split and zip the notebook's test_preds.csv")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output", required=True, help="folder for the zip")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=RUN_DIR",
        help="e.g. ffnn=artefacts/experiments/ffnn",
    )
    p.add_argument("--kind", choices=("leaderboard", "milestone", "final"), default="leaderboard")
    p.add_argument("--net-ids")
    add_precision(p)
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser(
        "inspect", help="show a run's predictions for a sentence, optionally an activation heatmap"
    )
    p.add_argument("--experiment", required=True)
    p.add_argument("--text", required=True, help="space-separated tokens")
    p.add_argument("--labels", help="space-separated true tags, to colour the table")
    p.add_argument("--epoch", type=int)
    p.add_argument(
        "--module",
        help="submodule whose activations to plot (default: the output layer, head.projection)",
    )
    p.add_argument("--activations", help="PNG file for the activation heatmap")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("serve", help="serve a run over HTTP: POST /v1/entities, a page at /, docs at /docs")
    p.add_argument("experiment", help="a run folder written by `ner train`")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-chars", type=int, default=100_000, help="longest text a request may send")
    p.add_argument("--max-texts", type=int, default=64, help="most texts a request may send")
    add_workers(p, "worker processes, each opening the run with its share of the cores (auto: 1)")
    add_precision(p)
    add_min_score(p, "the run's predict.min_score; a request's min_score replaces it")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "calibrate",
        help="fit the calibration of a model's entity scores on a dataset's labelled split (training "
        "does this itself; for runs and exports made before it did)",
    )
    p.add_argument("model", help="a run folder, an exported folder or an installed model's name")
    p.add_argument("--dataset", required=True, help="a saved dataset (ner create-dataset)")
    p.add_argument("--split", default="val", help="the split to fit on (never the test split)")
    p.set_defaults(func=cmd_calibrate)
    p = sub.add_parser("package", help="build an installable wheel and sdist of a run, loaded by its name")
    p.add_argument("run", help="a run folder written by `ner train`")
    p.add_argument("--name", required=True, help="the package's (and model's) name, e.g. news-ner")
    p.add_argument("--version", required=True, help="the package's version, e.g. 1.0.0")
    p.add_argument("--output", required=True, help="folder for the wheel and the sdist")
    p.set_defaults(func=cmd_package)

    p = sub.add_parser(
        "export",
        help="export a run to ONNX: a folder that ner.load, ner predict and ner serve run without torch",
    )
    p.add_argument("run", help="the run folder")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--output", required=True, help="the folder to write (must not exist)")
    p.add_argument(
        "--quantize",
        choices=["int8"],
        help="int8 dynamic quantization, kept only if validation F1 stays within 0.003 (needs --dataset)",
    )
    p.add_argument(
        "--dataset",
        help="a saved dataset whose val split checks the export against torch (default: sentences of the "
        "vocabulary's words, tags only)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="compare runs by their best epoch's validation metrics")
    p.add_argument("runs", nargs="+", help="run folders")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("plot-data", help="vocabulary-size and sentence-length plots of a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--min-freq-for-remove-frac", type=int, default=10)
    p.set_defaults(func=cmd_plot_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ner` command."""
    args = build_parser().parse_args(argv)

    def command() -> None:
        if args.command in TRAINING_COMMANDS:
            require_training(f"ner {args.command}")
        args.func(args)

    return run_safely(command)


if __name__ == "__main__":
    sys.exit(main())
