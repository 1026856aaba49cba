"""``Config``: every server option in one object, and ``load()`` which resolves them.

Constructing a ``Config`` only records options (and configures logging, as
upstream does). ``load()`` imports the app and the protocol classes, wraps the
app in the middleware the options ask for, and builds the TLS context; any
mistake there is reported as one log line and exits with ``STARTUP_FAILURE``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from configparser import RawConfigParser
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn

from uvicorn._binding import bind_listening_socket
from uvicorn._reload_paths import ReloadPaths, _normalize_dirs, is_dir, resolve_reload_patterns
from uvicorn._tls import create_ssl_context
from uvicorn.importer import ImportFromStringError, import_from_string
from uvicorn.logging import LOG_LEVELS, LOGGING_CONFIG, TRACE_LOG_LEVEL, apply_log_config
from uvicorn.middleware.asgi2 import ASGI2Middleware
from uvicorn.middleware.message_logger import MessageLoggerMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.middleware.wsgi import WSGIMiddleware

if TYPE_CHECKING:
    from uvicorn._types import ASGIApplication

__all__ = [
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
    "HTTPProtocolType",
    "InterfaceType",
    "LifespanType",
    "LoopFactoryType",
    "WSProtocolType",
    "_normalize_dirs",
    "create_ssl_context",
    "is_dir",
    "resolve_reload_patterns",
]

HTTPProtocolType = Literal["auto", "h11", "httptools"]
WSProtocolType = Literal["auto", "none", "websockets", "websockets-sansio", "wsproto"]
LifespanType = Literal["auto", "on", "off"]
LoopFactoryType = Literal["none", "auto", "asyncio", "uvloop"]
InterfaceType = Literal["auto", "asgi3", "asgi2", "wsgi"]

#: Exit code of a process that could not start serving (bad app, bind, TLS, lifespan).
STARTUP_FAILURE = 3

HTTP_PROTOCOLS: dict[str, str] = {
    "auto": "uvicorn.protocols.http.auto:AutoHTTPProtocol",
    "h11": "uvicorn.protocols.http.h11_impl:H11Protocol",
    "httptools": "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol",
}
WS_PROTOCOLS: dict[str, str | None] = {
    "auto": "uvicorn.protocols.websockets.auto:AutoWebSocketsProtocol",
    "none": None,
    "websockets": "uvicorn.protocols.websockets.websockets_impl:WebSocketProtocol",
    "websockets-sansio": "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol",
    "wsproto": "uvicorn.protocols.websockets.wsproto_impl:WSProtocol",
}
LIFESPAN: dict[str, str] = {
    "auto": "uvicorn.lifespan.on:LifespanOn",
    "on": "uvicorn.lifespan.on:LifespanOn",
    "off": "uvicorn.lifespan.off:LifespanOff",
}
LOOP_FACTORIES: dict[str, str | None] = {
    "none": None,
    "auto": "uvicorn.loops.auto:auto_loop_factory",
    "asyncio": "uvicorn.loops.asyncio:asyncio_loop_factory",
    "uvloop": "uvicorn.loops.uvloop:uvloop_loop_factory",
}
INTERFACES: list[InterfaceType] = ["auto", "asgi3", "asgi2", "wsgi"]
SSL_PROTOCOL_VERSION: int = ssl.PROTOCOL_TLS_SERVER

logger = logging.getLogger("uvicorn.error")


def _startup_failure(message: str, *args: object) -> NoReturn:
    """Report a mistake in the options as one log line and stop with ``STARTUP_FAILURE``."""
    logger.error(message, *args)
    sys.exit(STARTUP_FAILURE)


class Config:
    """All the options of a server; every parameter of :func:`uvicorn.run` is accepted here.

    After :meth:`load`, ``loaded_app`` is the app wrapped in its middleware and
    ``http_protocol_class`` / ``ws_protocol_class`` / ``lifespan_class`` are the
    classes the server will instantiate.
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
        ws: type[asyncio.Protocol] | WSProtocolType | str = "auto",
        ws_max_size: int = 16 * 1024 * 1024,
        ws_max_queue: int = 32,
        ws_ping_interval: float | None = 20.0,
        ws_ping_timeout: float | None = 20.0,
        ws_per_message_deflate: bool = True,
        lifespan: LifespanType = "auto",
        env_file: str | os.PathLike[str] | None = None,
        log_config: dict[str, Any] | str | os.PathLike[str] | RawConfigParser | IO[Any] | None = LOGGING_CONFIG,
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
        ssl_ciphers: str = "TLSv1",
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
        # Beyond upstream: opt-in proxy headers (RFC 7239 ``Forwarded``, ``X-Forwarded-Host``).
        proxy_forwarded: bool = False,
        proxy_x_forwarded_host: bool = False,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.uds = uds
        self.fd = fd
        self.loop = loop
        self.http = http
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
        self.proxy_forwarded = proxy_forwarded
        self.proxy_x_forwarded_host = proxy_x_forwarded_host

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
            self._load_env_file(env_file)
        self.env_file = env_file

        if workers is None and "WEB_CONCURRENCY" in os.environ:
            self.workers = int(os.environ["WEB_CONCURRENCY"])

        self.forwarded_allow_ips: list[str] | str
        if forwarded_allow_ips is None:
            self.forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
        else:
            self.forwarded_allow_ips = forwarded_allow_ips

        if self.reload and self.workers > 1:
            logger.warning('"workers" flag is ignored when reloading is enabled.')

    # ------------------------------------------------------------ properties

    @property
    def asgi_version(self) -> Literal["2.0", "3.0"]:
        """The ASGI version reported in scopes: ``"2.0"`` for ASGI2 apps, else ``"3.0"``."""
        return "2.0" if self.interface == "asgi2" else "3.0"

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
        """Apply ``log_config``, then ``log_level`` and ``access_log`` on uvicorn's loggers."""
        apply_log_config(self.log_config, self.use_colors)
        if self.log_level is not None:
            level = LOG_LEVELS[self.log_level] if isinstance(self.log_level, str) else self.log_level
            for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
                logging.getLogger(name).setLevel(level)
        if self.access_log is False:
            access_logger = logging.getLogger("uvicorn.access")
            access_logger.handlers = []
            access_logger.propagate = False

    def _load_env_file(self, env_file: str | os.PathLike[str]) -> None:
        try:
            from dotenv import load_dotenv
        except ImportError:
            _startup_failure(
                "env_file=%r needs python-dotenv: pip install python-dotenv (or 'uvicorn[standard]').",
                str(env_file),
            )
        logger.info("Loading environment from '%s'", env_file)
        load_dotenv(dotenv_path=env_file)

    def load(self) -> None:
        """Import and wrap the app, resolve the protocol classes, build the TLS context."""
        assert not self.loaded
        self._check_limits()

        if self.is_ssl:
            self.ssl = self._build_ssl_context()

        encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers]
        if self.server_header and b"server" not in dict(encoded):
            encoded.insert(0, (b"server", b"uvicorn"))
        self.encoded_headers = encoded

        self.http_protocol_class: type[asyncio.Protocol] = self._resolve_class("http", self.http, HTTP_PROTOCOLS)
        self.ws_protocol_class: type[asyncio.Protocol] | None = self._resolve_ws_class()
        self.lifespan_class: type[Any] = self._resolve_class("lifespan", self.lifespan, LIFESPAN, free=False)

        self.loaded_app = self.load_app()
        self._detect_interface()
        self.loaded_app = self._wrap_app(self.loaded_app)
        self.loaded = True

    def load_app(self) -> Any:
        """Import ``app`` (or take it as given) and call it when ``factory`` is set."""
        try:
            app = import_from_string(self.app)
        except ImportFromStringError as exc:
            _startup_failure("Error loading ASGI app. %s", exc)

        # As upstream: anything callable without arguments is an app factory. An ASGI
        # app itself needs (scope, receive, send), so calling it raises TypeError.
        try:
            built = app()
        except TypeError as exc:
            if self.factory:
                _startup_failure("Error loading ASGI app factory: %s", exc)
            return app
        if not self.factory:
            logger.warning(
                "ASGI app factory detected. Using it, but please consider setting the --factory flag explicitly."
            )
        return built

    def _detect_interface(self) -> None:
        if self.interface != "auto":
            return
        app = self.loaded_app
        if inspect.isclass(app):
            asgi3 = hasattr(app, "__await__")
        elif inspect.isfunction(app):
            asgi3 = inspect.iscoroutinefunction(app)
        else:
            asgi3 = inspect.iscoroutinefunction(getattr(app, "__call__", None))  # noqa: B004
        self.interface = "asgi3" if asgi3 else "asgi2"

    def _wrap_app(self, app: Any) -> Any:
        if self.interface == "wsgi":
            app = WSGIMiddleware(app)
            self.ws_protocol_class = None
        elif self.interface == "asgi2":
            app = ASGI2Middleware(app)
        if logger.getEffectiveLevel() <= TRACE_LOG_LEVEL:
            app = MessageLoggerMiddleware(app)
        if self.proxy_headers:
            app = ProxyHeadersMiddleware(
                app,
                trusted_hosts=self.forwarded_allow_ips,
                forwarded=self.proxy_forwarded,
                x_forwarded_host=self.proxy_x_forwarded_host,
            )
        return app

    def _resolve_class(self, option: str, value: Any, choices: dict[str, Any], free: bool = True) -> Any:
        if not isinstance(value, str):
            return value
        target = choices.get(value, value if free else None)
        if target is None or (value not in choices and ":" not in value):
            expected = ", ".join(repr(name) for name in choices)
            more = ' or an import string "module:Class"' if free else ""
            _startup_failure("Invalid value for '%s': %r. Use one of %s%s.", option, value, expected, more)
        try:
            return import_from_string(target)
        except ImportFromStringError as exc:
            _startup_failure("Invalid value for '%s': %s", option, exc)
        except ImportError as exc:
            _startup_failure("'%s=%s' needs a library that is not installed: %s", option, value, exc)

    def _resolve_ws_class(self) -> type[asyncio.Protocol] | None:
        if self.ws == "none":
            return None
        if isinstance(self.ws, str) and self.ws not in WS_PROTOCOLS and ":" not in self.ws:
            self._resolve_class("ws", self.ws, WS_PROTOCOLS)  # reports the bad value and exits
        resolved: type[asyncio.Protocol] | None = self._resolve_class("ws", self.ws, WS_PROTOCOLS)
        return resolved

    def _check_limits(self) -> None:
        """Reject option values that cannot work, naming the option and what would."""
        positive = {
            "limit_concurrency": self.limit_concurrency,
            "limit_max_requests": self.limit_max_requests,
            "backlog": self.backlog,
            "ws_max_size": self.ws_max_size,
            "ws_max_queue": self.ws_max_queue,
            "limit_request_line": self.limit_request_line,
            "limit_request_fields": self.limit_request_fields,
            "limit_request_head_size": self.limit_request_head_size,
            "timeout_request_head": self.timeout_request_head,
        }
        for option, value in positive.items():
            if value is not None and value <= 0:
                _startup_failure("Invalid value for '%s': %r. It must be a positive number.", option, value)
        non_negative = {
            "timeout_keep_alive": self.timeout_keep_alive,
            "timeout_graceful_shutdown": self.timeout_graceful_shutdown,
            "limit_max_requests_jitter": self.limit_max_requests_jitter,
        }
        for option, value in non_negative.items():
            if value is not None and value < 0:
                _startup_failure("Invalid value for '%s': %r. It must be zero or more.", option, value)
        if self.interface not in INTERFACES:
            _startup_failure(
                "Invalid value for 'interface': %r. Use one of %s.", self.interface, ", ".join(INTERFACES)
            )

    def _build_ssl_context(self) -> ssl.SSLContext:
        def default_context() -> ssl.SSLContext:
            if self.ssl_certfile is None:
                _startup_failure("TLS needs a certificate: set ssl_certfile (--ssl-certfile) as well.")
            return create_ssl_context(
                certfile=self.ssl_certfile,
                keyfile=self.ssl_keyfile,
                password=self.ssl_keyfile_password,
                ssl_version=self.ssl_version,
                cert_reqs=self.ssl_cert_reqs,
                ca_certs=self.ssl_ca_certs,
                ciphers=self.ssl_ciphers,
            )

        if self.ssl_context_factory is None:
            return default_context()
        context = self.ssl_context_factory(self, default_context)
        if not isinstance(context, ssl.SSLContext):
            _startup_failure(
                "ssl_context_factory must return an ssl.SSLContext, it returned %s.", type(context).__name__
            )
        return context

    # ------------------------------------------------------------ event loop and sockets

    def setup_event_loop(self) -> None:
        """Removed upstream in 0.36 in favour of :meth:`get_loop_factory`; kept to say so."""
        raise AttributeError(
            "Config.setup_event_loop() was replaced by Config.get_loop_factory(): "
            "pass the factory it returns to asyncio.Runner(loop_factory=...)."
        )

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        """The event loop factory for ``loop``, or None for ``"none"`` (use the running policy)."""
        if self.loop not in LOOP_FACTORIES:
            try:
                custom: Callable[[], asyncio.AbstractEventLoop] = import_from_string(self.loop)
            except ImportFromStringError as exc:
                _startup_failure("Error loading custom loop setup function. %s", exc)
            return custom
        target = LOOP_FACTORIES[self.loop]
        if target is None:
            return None
        try:
            setup = import_from_string(target)
        except ImportError as exc:
            _startup_failure("loop=%r is not available: %s. Install it or use loop='asyncio'.", self.loop, exc)
        factory: Callable[[], asyncio.AbstractEventLoop] = setup(use_subprocess=self.use_subprocess)
        return factory

    def bind_socket(self) -> socket.socket:
        """Bind the listening socket for ``uds``, ``fd`` or ``host``/``port`` and log where we listen."""
        return bind_listening_socket(self)

