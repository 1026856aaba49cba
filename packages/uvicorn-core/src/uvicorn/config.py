"""``Config``: every server option in one object, and ``load()`` which resolves them.

Constructing a ``Config`` records the options, configures logging and loads
the ``env_file`` (as upstream does). ``load()`` checks the option values,
imports the app and the protocol classes, wraps the app in the middleware the
options ask for and builds the TLS context. A mistake raises a
``uvicorn._startup.StartupError`` naming the option (typed as upstream's
exception for that case), which ``uvicorn.run()`` and the command line report
as one log line before exiting with ``STARTUP_FAILURE`` (3); where upstream
itself exits (an import string that names nothing), so does ``load()``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from configparser import RawConfigParser
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from uvicorn._app_loading import call_factory, detect_interface, import_app, wrap_app
from uvicorn._binding import bind_listening_socket, bind_listening_sockets
from uvicorn._environment import int_from_environment, load_env_file
from uvicorn._implementations import (
    HTTP2_PROTOCOLS,
    HTTP_PROTOCOLS,
    LIFESPAN,
    LOOP_FACTORIES,
    WS_PROTOCOLS,
    HTTP2EngineType,
    HTTPProtocolType,
    LifespanType,
    LoopFactoryType,
    WSProtocolType,
    http2_classes,
    loop_factory,
    resolve_class,
)
from uvicorn._log_setup import access_log_timing, configure_logging
from uvicorn._observability_options import check_observability_options
from uvicorn._option_checks import check_option_values
from uvicorn._reload_paths import ReloadPaths, _normalize_dirs, is_dir, resolve_reload_patterns
from uvicorn._startup import STARTUP_FAILURE, InvalidOptionError
from uvicorn._tls import build_ssl_context, create_ssl_context
from uvicorn.logging import LOG_LEVELS, LOGGING_CONFIG, TRACE_LOG_LEVEL
from uvicorn.protocols.contract import UvicornDeprecationWarning

if TYPE_CHECKING:
    from uvicorn._types import ASGIApplication

__all__ = [
    "HTTP2_PROTOCOLS",
    "HTTP_PROTOCOLS",
    "INTERFACES",
    "LIFESPAN",
    "LOGGING_CONFIG",
    "LOG_LEVELS",
    "LOOP_FACTORIES",
    "SSL_PROTOCOL_VERSION",
    "STARTUP_FAILURE",
    "TRACE_LOG_LEVEL",
    "WS_PROTOCOLS",
    "Config",
    "HTTP2EngineType",
    "HTTPProtocolType",
    "InterfaceType",
    "LifespanType",
    "LoopFactoryType",
    "UvicornDeprecationWarning",
    "WSProtocolType",
    "_normalize_dirs",
    "create_ssl_context",
    "is_dir",
    "resolve_reload_patterns",
]

InterfaceType = Literal["auto", "asgi3", "asgi2", "wsgi"]
INTERFACES: list[InterfaceType] = ["auto", "asgi3", "asgi2", "wsgi"]
SSL_PROTOCOL_VERSION: int = ssl.PROTOCOL_TLS_SERVER

logger = logging.getLogger("uvicorn.error")

# What load() produces. Read before load(), any of them loads the config first (Config.__getattr__).
_MADE_BY_LOAD = frozenset(
    {
        "loaded_app",
        "http_protocol_class",
        "http1_protocol_class",
        "http2_protocol_class",
        "ws_protocol_class",
        "lifespan_class",
    }
)


class Config:
    """All the options of a server; every parameter of :func:`uvicorn.run` is accepted here.

    After :meth:`load`, ``loaded_app`` is the app wrapped in its middleware and
    ``http_protocol_class`` / ``ws_protocol_class`` / ``lifespan_class`` are the
    classes the server will instantiate; reading one of them before loads the
    config first. docs/settings.md describes every option.
    """

    def __init__(
        self,
        app: ASGIApplication | Callable[..., Any] | str,
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
        env_file: str | os.PathLike[str] | None = None,
        log_config: dict[str, Any]
        | str
        | os.PathLike[str]
        | RawConfigParser
        | IO[Any]
        | None = LOGGING_CONFIG,
        log_level: str | int | None = None,
        access_log: bool = True,
        use_colors: bool | None = None,
        interface: InterfaceType = "auto",
        reload: bool = False,
        reload_dirs: list[str] | str | None = None,
        reload_delay: float = 0.25,
        reload_includes: list[str] | str | None = None,
        reload_excludes: list[str] | str | None = None,
        workers: int | None = None,
        proxy_headers: bool = True,
        server_header: bool = True,
        date_header: bool = True,
        forwarded_allow_ips: list[str] | str | None = None,
        root_path: str = "",
        limit_concurrency: int | None = None,
        limit_max_requests: int | None = None,
        limit_max_requests_jitter: int = 0,
        backlog: int = 2048,
        timeout_keep_alive: int = 5,
        timeout_notify: int = 30,
        timeout_graceful_shutdown: int | None = None,
        timeout_worker_healthcheck: int = 5,
        callback_notify: Callable[..., Awaitable[None]] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile_password: str | None = None,
        ssl_version: int = SSL_PROTOCOL_VERSION,
        ssl_cert_reqs: int = ssl.CERT_NONE,
        ssl_ca_certs: str | os.PathLike[str] | None = None,
        ssl_ciphers: str | None = None,
        ssl_context_factory: Callable[[Config, Callable[[], ssl.SSLContext]], ssl.SSLContext] | None = None,
        headers: list[tuple[str, str]] | None = None,
        factory: bool = False,
        h11_max_incomplete_event_size: int | None = None,
        reset_contextvars: bool = False,
        *,
        # Beyond upstream: bounds on what a client may send before the app sees a request.
        limit_request_line: int = 8190,
        limit_request_fields: int = 100,
        limit_request_head_size: int = 128 * 1024,
        timeout_request_head: float = 10.0,
        # Beyond upstream: bounds on request bodies, connections and slow readers (docs/server-behaviour.md).
        limit_request_body: int | None = None,
        timeout_request_body: float = 60.0,
        limit_keep_alive_requests: int | None = None,
        timeout_response_send: float = 60.0,
        # Beyond upstream: how the server stops (docs/deployment.md).
        shutdown_delay: float = 0,
        timeout_lifespan_startup: float | None = None,
        timeout_lifespan_shutdown: float | None = None,
        # Beyond upstream: opt-in proxy headers (RFC 7239 ``Forwarded``, ``X-Forwarded-Host``).
        proxy_forwarded: bool = False,
        proxy_x_forwarded_host: bool = False,
        # Beyond upstream: which library frames HTTP/2, and its per-connection limits.
        http2_engine: HTTP2EngineType | str = "auto",
        http2_max_concurrent_streams: int = 100,
        http2_max_resets: int = 200,
        http2_max_control_frames: int = 500,
        http2_header_table_size: int = 4096,
        # Beyond upstream: listeners and worker recycling (docs/binding.md, docs/deployment.md).
        bind: list[str] | str | None = None,
        reuse_port: bool = False,
        limit_max_memory: int | None = None,
        max_worker_lifetime: float | None = None,
        max_worker_lifetime_jitter: float = 0,
        # Beyond upstream: log formats, metrics and health endpoints (docs/logging.md, docs/metrics.md).
        access_log_format: str | None = None,
        log_format: Literal["text", "json"] = "text",
        admin_port: int | None = None,
        admin_host: str = "127.0.0.1",
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.uds = uds
        self.fd = fd
        self.loop = loop
        self.http = http
        self.http2 = http2
        self.ws = ws
        self.ws_max_size = ws_max_size
        self.ws_max_queue = ws_max_queue
        self.ws_ping_interval = ws_ping_interval
        self.ws_ping_timeout = ws_ping_timeout
        self.ws_per_message_deflate = ws_per_message_deflate
        self.lifespan = lifespan
        self.log_config = log_config
        self.log_level = log_level
        self.access_log = access_log
        self.use_colors = use_colors
        self.interface = interface
        self.reload = reload
        self.reload_delay = reload_delay
        self.workers = workers or 1
        self.proxy_headers = proxy_headers
        self.server_header = server_header
        self.date_header = date_header
        self.root_path = root_path
        self.limit_concurrency = limit_concurrency
        self.limit_max_requests = limit_max_requests
        self.limit_max_requests_jitter = limit_max_requests_jitter
        self.backlog = backlog
        self.timeout_keep_alive = timeout_keep_alive
        self.timeout_notify = timeout_notify
        self.timeout_graceful_shutdown = timeout_graceful_shutdown
        self.timeout_worker_healthcheck = timeout_worker_healthcheck
        self.callback_notify = callback_notify
        self.ssl_keyfile = ssl_keyfile
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile_password = ssl_keyfile_password
        self.ssl_version = ssl_version
        self.ssl_cert_reqs = ssl_cert_reqs
        self.ssl_ca_certs = ssl_ca_certs
        self.ssl_ciphers = ssl_ciphers
        self.ssl_context_factory = ssl_context_factory
        self.headers: list[tuple[str, str]] = headers or []
        self.encoded_headers: list[tuple[bytes, bytes]] = []
        self.factory = factory
        self.h11_max_incomplete_event_size = h11_max_incomplete_event_size
        self.reset_contextvars = reset_contextvars
        self.limit_request_line = limit_request_line
        self.limit_request_fields = limit_request_fields
        self.limit_request_head_size = limit_request_head_size
        self.timeout_request_head = timeout_request_head
        self.limit_request_body = limit_request_body
        self.timeout_request_body = timeout_request_body
        self.limit_keep_alive_requests = limit_keep_alive_requests
        self.timeout_response_send = timeout_response_send
        self.shutdown_delay = shutdown_delay
        self.timeout_lifespan_startup = timeout_lifespan_startup
        self.timeout_lifespan_shutdown = timeout_lifespan_shutdown
        self.proxy_forwarded = proxy_forwarded
        self.proxy_x_forwarded_host = proxy_x_forwarded_host
        self.http2_engine = http2_engine
        self.http2_max_concurrent_streams = http2_max_concurrent_streams
        self.http2_max_resets = http2_max_resets
        self.http2_max_control_frames = http2_max_control_frames
        self.http2_header_table_size = http2_header_table_size
        self.bind: list[str] | None = [bind] if isinstance(bind, str) else bind
        self.reuse_port = reuse_port
        self.limit_max_memory = limit_max_memory
        self.max_worker_lifetime = max_worker_lifetime
        self.max_worker_lifetime_jitter = max_worker_lifetime_jitter
        self.access_log_format = access_log_format
        self.log_format = log_format
        self.admin_port = admin_port
        self.admin_host = admin_host

        self.loaded = False
        self.ssl: ssl.SSLContext | None = None
        self.configure_logging()

        paths = ReloadPaths.resolve(
            should_reload=self.should_reload,
            dirs=reload_dirs,
            includes=reload_includes,
            excludes=reload_excludes,
        )
        self.reload_dirs: list[Path] = paths.dirs
        self.reload_dirs_excludes: list[Path] = paths.dirs_excludes
        self.reload_includes: list[str] = paths.includes
        self.reload_excludes: list[str] = paths.excludes

        if env_file is not None:
            load_env_file(env_file)
        self.env_file = env_file

        if workers is None and "WEB_CONCURRENCY" in os.environ:
            self.workers = int_from_environment("WEB_CONCURRENCY", "workers")

        self.forwarded_allow_ips: list[str] | str
        if forwarded_allow_ips is None:
            self.forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
        else:
            self.forwarded_allow_ips = forwarded_allow_ips

        if self.reload and self.workers > 1:
            logger.warning('"workers" flag is ignored when reloading is enabled.')

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any attribute name

        def __getattr__(self, name: str) -> Any:
            # Only called for attributes not set yet. Protocols never load a config
            # (protocols/contract.py), but upstream's tests and other code build protocol
            # classes from a fresh Config(app=...), as upstream's protocols loaded it
            # themselves: the first read of what load() makes loads it here instead.
            if name not in _MADE_BY_LOAD or self.__dict__.get("loaded", True) or "_loading" in self.__dict__:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            self._loading = True
            try:
                self.load()
            finally:
                del self._loading
            return self.__dict__[name]

    # ------------------------------------------------------------ properties

    @property
    def asgi_version(self) -> Literal["2.0", "3.0"]:
        """The ASGI version reported in scopes: ``"2.0"`` for ASGI2 apps, else ``"3.0"``."""
        return "2.0" if self.interface == "asgi2" else "3.0"

    @property
    def access_log_timing(self) -> Literal["head", "end"]:
        """When access lines are written: ``"head"`` (as upstream, when the response head goes
        out) or ``"end"`` (JSON logs, or a format showing the response's size or duration)."""
        return access_log_timing(self)

    @property
    def is_ssl(self) -> bool:
        """True when a certificate is configured (or a custom TLS context factory)."""
        return bool(self.ssl_keyfile or self.ssl_certfile or self.ssl_context_factory)

    @property
    def use_subprocess(self) -> bool:
        """True when the server runs in a child process of a supervisor (reload or workers)."""
        return bool(self.reload or self.workers > 1)

    @property
    def should_reload(self) -> bool:
        """Reloading needs an import string, so the worker process can import the app afresh."""
        return isinstance(self.app, str) and self.reload

    # ------------------------------------------------------------ setup

    def configure_logging(self) -> None:
        """Apply ``log_config`` (shaped by ``log_format`` and ``access_log_format``), then
        ``log_level`` and ``access_log`` on uvicorn's loggers (uvicorn._log_setup)."""
        # ``open`` is passed from here so tests that patch ``uvicorn.config.open`` see the read.
        configure_logging(self, open_file=open)

    def load(self) -> None:
        """Check the options, import and wrap the app, resolve the protocol classes, build TLS."""
        assert not self.loaded
        check_option_values(self)
        check_observability_options(self)
        self.http_protocol_class: type[asyncio.Protocol] = resolve_class("http", self.http, HTTP_PROTOCOLS)
        # With http2, http_protocol_class picks one of these per connection (ALPN or preface).
        self.http1_protocol_class: type[asyncio.Protocol] = self.http_protocol_class
        self.http2_protocol_class: type[asyncio.Protocol] | None = None
        if self.http2:
            self.http_protocol_class, self.http2_protocol_class = http2_classes(
                self.http, self.http2_engine, HTTP2_PROTOCOLS
            )
        self.ws_protocol_class: type[asyncio.Protocol] | None = (
            None if self.ws == "none" else resolve_class("ws", self.ws, WS_PROTOCOLS)
        )
        self.lifespan_class: type[Any] = resolve_class("lifespan", self.lifespan, LIFESPAN, free=False)

        if self.is_ssl:
            self.ssl = build_ssl_context(self)
        self.encoded_headers = self._encode_headers()

        app = call_factory(self.load_app(), self.factory)
        if self.interface == "auto":
            self.interface = detect_interface(app)
        if self.interface == "wsgi":
            self.ws_protocol_class = None  # a WSGI app cannot speak WebSocket
        self.loaded_app = wrap_app(app, self)
        self.loaded = True

    def load_app(self) -> Any:
        """Import ``app`` when it is an import string (else return it as given); exits on failure.

        Only imports: :meth:`load` calls a factory. ``uvicorn.run`` calls this early
        so a bad import string fails before any event loop or worker starts.
        """
        return import_app(self.app)

    def _encode_headers(self) -> list[tuple[bytes, bytes]]:
        try:
            encoded = [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers
            ]
        except (AttributeError, UnicodeEncodeError, ValueError) as exc:
            raise InvalidOptionError(
                f"Invalid value for 'headers' (--header): {exc}. Give (name, value) string pairs in Latin-1."
            ) from None
        if self.server_header and b"server" not in dict(encoded):
            encoded.insert(0, (b"server", b"uvicorn"))
        return encoded

    # ------------------------------------------------------------ event loop and sockets

    def setup_event_loop(self) -> None:
        """Removed upstream in 0.36 in favour of :meth:`get_loop_factory`; kept to say so."""
        raise AttributeError(
            "The `setup_event_loop` method was replaced by `get_loop_factory` in uvicorn 0.36.0. "
            "Pass the factory it returns to asyncio.Runner(loop_factory=...)."
        )

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        """The event loop factory for ``loop``, or None for ``"none"`` (use the running policy)."""
        return loop_factory(self.loop, LOOP_FACTORIES, self.use_subprocess)

    def bind_socket(self) -> socket.socket:
        """Bind the listening socket for ``uds``, ``fd`` or ``host``/``port`` and log where we listen."""
        return bind_listening_socket(self)

    def bind_sockets(self) -> list[socket.socket]:
        """Like :meth:`bind_socket`, for every address (``bind``; a host name: each of its addresses)."""
        return bind_listening_sockets(self)
