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
    """Serve the run with uvicorn, in this process for one worker, else in worker processes."""
    import uvicorn

    from ner.serve.app import Limits, create_app
    from ner.utils.console import log
    from ner.utils.thresholds import parse_min_score

    served = model_of(args)
    limits = Limits(max_chars=args.max_chars, max_texts=args.max_texts)
    where = f"http://{args.host}:{args.port}"
    workers = parse_workers(args.workers) or 1
    min_score = None if args.min_score is None else parse_min_score(args.min_score)
    if workers == 1:
        app = create_app(served, limits, precision=args.precision, min_score=min_score)
        log.print(f"serving {served} on {where} (page at /, API docs at /docs)")
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=30)
        return
    import os

    from ner.inference.opening import open_model
    from ner.runtime.workers import threads_per_worker
    from ner.serve.app import worker_settings
    from ner.serve.supervisor import serve_in_workers

    model = open_model(served, precision=args.precision, min_score=min_score)
    options = {"precision": model.predictor.precision, "min_score": model.predictor.min_score}
    os.environ.update(worker_settings(served, limits, options, threads_per_worker(workers)))
    del model
    log.print(f"serving {served} on {where} with {workers} worker processes (page at /, docs at /docs)")
    serve_in_workers("ner.serve.app:app_from_environment", workers, args.host, args.port)
