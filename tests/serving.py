"""Run a real uvicorn ``Server`` for a test, on 127.0.0.1 and a free port.

    async with serve(app, http="h11") as running:            # in the test's event loop
        response = await client.get(running.url + "/path")

    with serve_in_thread(app) as running:                    # for blocking clients (raw sockets)
        sock = socket.create_connection((running.host, running.port))

Both accept an app (object or import string) plus ``Config`` keyword options,
or a ready ``Config``. The listening socket is bound here (port 0, so no port
is ever guessed) and handed to the server; the helper returns once the server
listens, raises :class:`ServerStartupFailed` at once if it cannot start, and
shuts the server down (gracefully, as on SIGTERM) when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from uvicorn._compat import asyncio_run
from uvicorn.config import Config
from uvicorn.server import Server

__all__ = ["RunningServer", "ServerStartupFailed", "serve", "serve_in_thread"]


class ServerStartupFailed(Exception):
    """The server stopped before it was listening (bad option, app import, lifespan, TLS...)."""

    def __init__(self, exit_code: object) -> None:
        self.exit_code = exit_code
        super().__init__(f"the server exited with code {exit_code!r} before it was listening")


@dataclass
class RunningServer:
    """A server that is listening: where to reach it, and its ``Server`` and ``Config``."""

    server: Server
    config: Config
    host: str
    port: int

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` with TLS, brackets around IPv6 hosts)."""
        scheme = "https" if self.config.is_ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The same address with the ``ws``/``wss`` scheme."""
        return "ws" + self.url[len("http") :]


def make_config(app_or_config: Any, options: dict[str, Any]) -> Config:
    """``app_or_config`` if it is a ``Config`` (then no options may be given), else a new one."""
    if isinstance(app_or_config, Config):
        if options:
            raise TypeError("give Config options either in the Config or as keywords, not both")
        return app_or_config
    return Config(app_or_config, **options)


def bind_free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to ``host`` on a port the kernel picks (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


async def _serve_without_exiting(server: Server, sockets: list[socket.socket]) -> None:
    # The server reports startup failures with sys.exit(3); inside the test's event loop
    # a SystemExit would stop the loop itself, so turn it into an ordinary exception.
    try:
        await server.serve(sockets=sockets)
    except SystemExit as exc:
        raise ServerStartupFailed(exc.code) from exc


@contextlib.asynccontextmanager
async def serve(app_or_config: Any, **options: Any) -> AsyncIterator[RunningServer]:
    """Serve in the running event loop for the duration of the block."""
    config = make_config(app_or_config, options)
    sock = bind_free_socket(config.host or "127.0.0.1")
    host, port = sock.getsockname()[:2]
    server = Server(config)
    serving = asyncio.create_task(_serve_without_exiting(server, [sock]))
    started = asyncio.create_task(server._startup_complete.wait())
    await asyncio.wait({serving, started}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        started.cancel()
        sock.close()
        await serving  # raises why it stopped (ServerStartupFailed or the app's error)
        raise ServerStartupFailed(None)  # it returned without ever listening
    try:
        yield RunningServer(server=server, config=config, host=host, port=port)
    finally:
        server.should_exit = True
        await serving


@contextlib.contextmanager
def serve_in_thread(app_or_config: Any, **options: Any) -> Iterator[RunningServer]:
    """Serve in a background thread (with its own event loop) for the duration of the block."""
    config = make_config(app_or_config, options)
    sock = bind_free_socket(config.host or "127.0.0.1")
    host, port = sock.getsockname()[:2]
    server = Server(config)
    listening = threading.Event()
    failure: list[BaseException] = []

    async def run() -> None:
        serving = asyncio.create_task(_serve_without_exiting(server, [sock]))
        started = asyncio.create_task(server._startup_complete.wait())
        await asyncio.wait({serving, started}, return_when=asyncio.FIRST_COMPLETED)
        listening.set()
        await serving

    def thread_main() -> None:
        try:
            asyncio_run(run(), loop_factory=config.get_loop_factory())
        except BaseException as exc:
            failure.append(exc)
        finally:
            listening.set()  # never leave the test waiting

    thread = threading.Thread(target=thread_main, name="uvicorn-test-server", daemon=True)
    thread.start()
    listening.wait()
    if not server.started:
        thread.join()
        sock.close()
        if failure:
            raise failure[0]
        raise ServerStartupFailed(None)
    try:
        yield RunningServer(server=server, config=config, host=host, port=port)
    finally:
        server.should_exit = True
        thread.join()
        if failure:
            raise failure[0]
