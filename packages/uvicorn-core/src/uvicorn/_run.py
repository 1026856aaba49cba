"""``uvicorn.run()``: build a ``Config`` and serve it, in this process or under a supervisor.

``reload=True`` and ``workers > 1`` need the supervisors of uvicorn-cli, which
are imported only then: uvicorn-core never needs uvicorn-cli otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import sys
from collections.abc import Callable
from configparser import RawConfigParser
from typing import IO, TYPE_CHECKING, Any, Literal

from uvicorn._bind_addresses import parse_bind_address
from uvicorn._startup import STARTUP_FAILURE, exit_on_startup_error, startup_failure
from uvicorn.config import (
    SSL_PROTOCOL_VERSION,
    Config,
    HTTP2EngineType,
    HTTPProtocolType,
    InterfaceType,
    LifespanType,
    LoopFactoryType,
    WSProtocolType,
)
from uvicorn.logging import LOGGING_CONFIG
from uvicorn.server import Server

if TYPE_CHECKING:
    from uvicorn._types import ASGIApplication

__all__ = ["run"]

logger = logging.getLogger("uvicorn.error")


def run(
    app: ASGIApplication | Callable[..., Any] | str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    uds: str | None = None,
    fd: int | None = None,
    loop: LoopFactoryType | str = "auto",
    http: type[asyncio.Protocol] | HTTPProtocolType | str = "auto",
    http2: bool = False,
    ws: type[asyncio.Protocol] | WSProtocolType | str = "auto",
    ws_max_size: int = 16 * 1024 * 1024,
    ws_max_queue: int = 32,
    ws_ping_interval: float | None = 20.0,
    ws_ping_timeout: float | None = 20.0,
    ws_per_message_deflate: bool = True,
    lifespan: LifespanType = "auto",
    interface: InterfaceType = "auto",
    reload: bool = False,
    reload_dirs: list[str] | str | None = None,
    reload_includes: list[str] | str | None = None,
    reload_excludes: list[str] | str | None = None,
    reload_delay: float = 0.25,
    workers: int | None = None,
    env_file: str | os.PathLike[str] | None = None,
    log_config: dict[str, Any] | str | os.PathLike[str] | RawConfigParser | IO[Any] | None = LOGGING_CONFIG,
    log_level: str | int | None = None,
    access_log: bool = True,
    proxy_headers: bool = True,
    server_header: bool = True,
    date_header: bool = True,
    forwarded_allow_ips: list[str] | str | None = None,
    root_path: str = "",
    limit_concurrency: int | None = None,
    backlog: int = 2048,
    limit_max_requests: int | None = None,
    limit_max_requests_jitter: int = 0,
    timeout_keep_alive: int = 5,
    timeout_graceful_shutdown: int | None = None,
    timeout_worker_healthcheck: int = 5,
    ssl_keyfile: str | os.PathLike[str] | None = None,
    ssl_certfile: str | os.PathLike[str] | None = None,
    ssl_keyfile_password: str | None = None,
    ssl_version: int = SSL_PROTOCOL_VERSION,
    ssl_cert_reqs: int = ssl.CERT_NONE,
    ssl_ca_certs: str | os.PathLike[str] | None = None,
    ssl_ciphers: str | None = None,
    ssl_context_factory: Callable[[Config, Callable[[], ssl.SSLContext]], ssl.SSLContext] | None = None,
    headers: list[tuple[str, str]] | None = None,
    use_colors: bool | None = None,
    app_dir: str | None = None,
    factory: bool = False,
    h11_max_incomplete_event_size: int | None = None,
    reset_contextvars: bool = False,
    # Beyond upstream (see Config).
    limit_request_line: int = 8190,
    limit_request_fields: int = 100,
    limit_request_head_size: int = 128 * 1024,
    timeout_request_head: float = 10.0,
    limit_request_body: int | None = None,
    timeout_request_body: float = 60.0,
    limit_keep_alive_requests: int | None = None,
    timeout_response_send: float = 60.0,
    shutdown_delay: float = 0,
    timeout_lifespan_startup: float | None = None,
    timeout_lifespan_shutdown: float | None = None,
    proxy_forwarded: bool = False,
    proxy_x_forwarded_host: bool = False,
    http2_engine: HTTP2EngineType | str = "auto",
    http2_max_concurrent_streams: int = 100,
    http2_max_resets: int = 200,
    http2_max_control_frames: int = 500,
    http2_header_table_size: int = 4096,
    bind: list[str] | str | None = None,
    reuse_port: bool = False,
    limit_max_memory: int | None = None,
    max_worker_lifetime: float | None = None,
    max_worker_lifetime_jitter: float = 0,
    access_log_format: str | None = None,
    log_format: Literal["text", "json"] = "text",
    admin_port: int | None = None,
    admin_host: str = "127.0.0.1",
) -> None:
    """Serve ``app`` until interrupted; the options are :class:`Config`'s, plus ``app_dir``.

    ``app_dir`` is put first on ``sys.path`` before the app is imported. With
    ``reload`` or ``workers > 1`` the app must be an import string (each server
    process imports it); otherwise the app is imported here, before any event
    loop starts, so a wrong import string fails at once. Exits with code 3 when
    the server could not start: a mistake in the options, the app's import
    string, TLS or logging is one ``ERROR:`` line, never a traceback (``Config``
    and ``Server`` raise it as an exception for programs that use them directly).
    """
    # First, while the parameters are the only locals: every one but app and app_dir is Config's,
    # under the same name (tests/core/test_config.py checks the two signatures agree).
    config_options = {name: value for name, value in locals().items() if name not in ("app", "app_dir")}
    if app_dir is not None:
        sys.path.insert(0, app_dir)

    with exit_on_startup_error():
        config = Config(app, **config_options)
        supervised = config.reload or config.workers > 1
        if supervised and not isinstance(app, str):
            logger.warning(
                "You must pass the application as an import string to enable 'reload' or 'workers'."
            )
            sys.exit(STARTUP_FAILURE)
        if not supervised:
            # Import now: an app module that runs its own event loop at import time must
            # not be imported inside ours. (Worker processes import the app themselves.)
            config.load_app()

        server = Server(config=config)
        try:
            if config.should_reload:
                change_reload = _supervisor("ChangeReload")
                change_reload(config, target=server.run, sockets=_supervisor_sockets(config)).run()
            elif config.workers > 1:
                multiprocess = _supervisor("Multiprocess")
                multiprocess(config, sockets=_supervisor_sockets(config)).run()
            else:
                server.run()
        except KeyboardInterrupt:
            pass  # Ctrl+C after a graceful shutdown, re-raised by Server.capture_signals
        finally:
            for path in _unix_socket_paths(config):
                if os.path.exists(path):
                    os.remove(path)

        if not server.started and not config.should_reload and config.workers == 1:
            sys.exit(STARTUP_FAILURE)


def _supervisor_sockets(config: Config) -> list[socket.socket]:
    """The sockets a supervisor hands its workers.

    With upstream's options, the one socket of ``Config.bind_socket()``, as upstream
    binds it (programs and tests patch that method); ``bind`` and ``reuse_port``
    need every address, each socket ready for SO_REUSEPORT copies.
    """
    if config.bind or config.reuse_port:
        return config.bind_sockets()
    return [config.bind_socket()]


def _unix_socket_paths(config: Config) -> list[str]:
    """The socket files the server created, to remove on exit."""
    if config.uds:
        return [config.uds]
    parsed = [parse_bind_address(text) for text in config.bind or [] if isinstance(text, str)]
    return [address.path for address in parsed if address is not None and address.kind == "unix"]


def _supervisor(name: str) -> Any:
    """``uvicorn.supervisors.<name>`` from uvicorn-cli, or one line saying how to install it."""
    try:
        from uvicorn import supervisors
    except ImportError as exc:
        if exc.name not in ("uvicorn.supervisors", "uvicorn"):
            raise  # uvicorn-cli is there but something it imports is not: show that
        startup_failure(
            "'reload' and 'workers' need the uvicorn-cli package: pip install uvicorn-cli (or uvicorn)."
        )
    supervisor = getattr(supervisors, name, None)
    if supervisor is None:
        startup_failure(
            "'reload' and 'workers' need uvicorn.supervisors.%s from uvicorn-cli; "
            "reinstall it: pip install --force-reinstall uvicorn-cli.",
            name,
        )
    return supervisor
