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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Serve the model until stopped."""
    from ner.serve.app import Limits
    from ner.serve.supervisor import serve
    from ner.utils.thresholds import parse_min_score

    limits = Limits(max_chars=args.max_chars, max_texts=args.max_texts)
    min_score = None if args.min_score is None else parse_min_score(args.min_score)
    workers = parse_workers(args.workers) or 1
    serve(model_of(args), limits, args.host, args.port, workers, args.precision, min_score)
