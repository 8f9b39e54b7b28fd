"""Serving a model: in this process, or in several worker processes by uvicorn's own supervisor."""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from ner.inference.opening import open_model
from ner.runtime.workers import threads_per_worker
from ner.serve.app import BackendSettings, Limits, create_app, worker_settings
from ner.utils.console import log
from ner.utils.thresholds import MinScore


class TcpConfig(uvicorn.Config):
    """uvicorn's config, with a listening socket that says it is TCP. uvicorn binds the socket its
    workers share with protocol 0; connections accepted on it inherit that, and asyncio sets
    TCP_NODELAY only on sockets that say IPPROTO_TCP, so every keep-alive answer after the first would
    wait for the client's delayed ACK, some 40 ms (uvicorn issue 3149, open in 0.54)."""

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


def serve_in_workers(app: str, workers: int, host: str, port: int) -> None:
    """Serve the app factory named by `app` ("module:function") in `workers` processes until stopped."""
    config = TcpConfig(
        app,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=30,
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def serve(
    source: str,
    limits: Limits,
    host: str,
    port: int,
    workers: int = 1,
    precision: str | None = None,
    min_score: MinScore | None = None,
    backend: BackendSettings | None = None,
) -> None:
    """Serve a model until stopped: in this process for one worker; for several, the model is opened
    here once, so that every worker runs in the precision the probe chose here and with its threshold,
    and the workers learn what to serve from the environment uvicorn's supervisor passes on."""
    where = f"http://{host}:{port}"
    backend = (backend or BackendSettings()).model_copy(update={"workers": workers})
    if workers == 1:
        app = create_app(source, limits, backend, precision=precision, min_score=min_score)
        log.print(f"serving {source} on {where} (page at /, API docs at /docs)")
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)
        return
    model = open_model(source, precision=precision, min_score=min_score)
    options = {"precision": model.predictor.precision, "min_score": model.predictor.min_score}
    os.environ.update(worker_settings(source, limits, backend, options, threads_per_worker(workers)))
    del model
    log.print(f"serving {source} on {where} with {workers} worker processes (page at /, docs at /docs)")
    serve_in_workers("ner.serve.app:app_from_environment", workers, host, port)
