"""The service in several worker processes, by uvicorn's own supervisor."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


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
