"""Serving the app with uvicorn: `serve_app` for a process that is only the server (it stops on
SIGINT/SIGTERM); for a process that has its own event loop and signal handling (the demo), a
socket bound up front, so a busy port is a clear error before anything starts, and a uvicorn
server that leaves SIGINT/SIGTERM to its host."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

__all__ = ["EmbeddedServer", "bind", "serve_app"]


async def serve_app(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` with uvicorn until SIGINT/SIGTERM."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    await server.serve()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`; `OSError` when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server stopped by `should_exit`, not by signals: its host handles those."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
