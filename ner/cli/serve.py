"""`ner serve`: serve a run over HTTP, in this process or in several worker processes."""

from __future__ import annotations

import argparse

from ner.cli.options import (
    add_min_score,
    add_model_argument,
    add_precision,
    add_workers,
    model_of,
    parse_workers,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` command and its options."""
    p = sub.add_parser("serve", help="serve a run over HTTP: POST /v1/entities, a page at /, docs at /docs")
    add_model_argument(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-chars", type=int, default=100_000, help="longest text a request may send")
    p.add_argument("--max-texts", type=int, default=64, help="most texts a request may send")
    add_workers(p, "worker processes, each opening the run with its share of the cores (auto: 1)")
    add_precision(p)
    add_min_score(p, "the run's predict.min_score; a request's min_score replaces it")
    ls = p.add_argument_group(
        "Label Studio ML backend",
        "the service's address is the URL a Label Studio project's Model setting takes; annotation events "
        "and START_TRAINING fine-tune the served run (read through LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, "
        "else what the project's setup sent) and swap it in",
    )
    ls.add_argument(
        "--label-map",
        action="append",
        default=[],
        metavar="LABEL=TYPE",
        help="a project label that names one of the model's types, e.g. PERSON=PER; repeatable",
    )
    ls.add_argument("--training-dir", default="label-studio-runs", help="where fine-tuning rounds train")
    ls.add_argument(
        "--min-annotations",
        type=int,
        default=10,
        help="annotated tasks a project needs before an annotation event trains (START_TRAINING: any)",
    )
    ls.add_argument("--train-epochs", type=int, default=10, help="epochs of a fine-tuning round")
    ls.add_argument("--train-minutes", type=float, default=5.0, help="time budget of a fine-tuning round")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Serve the model until stopped."""
    from pydantic import ValidationError

    from ner.serve.app import BackendSettings, Limits
    from ner.serve.supervisor import serve
    from ner.utils.errors import NerError
    from ner.utils.spans import parse_type_map
    from ner.utils.thresholds import parse_min_score

    limits = Limits(max_chars=args.max_chars, max_texts=args.max_texts)
    min_score = None if args.min_score is None else parse_min_score(args.min_score)
    workers = parse_workers(args.workers) or 1
    try:
        backend = BackendSettings(
            label_map=parse_type_map(args.label_map, "--label-map"),
            work_dir=args.training_dir,
            min_annotations=args.min_annotations,
            epochs=args.train_epochs,
            minutes=args.train_minutes,
        )
    except ValidationError as err:
        first = err.errors()[0]
        flag = {
            "min_annotations": "--min-annotations",
            "epochs": "--train-epochs",
            "minutes": "--train-minutes",
        }
        raise NerError(f"{flag.get(first['loc'][0], first['loc'][0])}: {first['msg']}") from None
    serve(model_of(args), limits, args.host, args.port, workers, args.precision, min_score, backend)
