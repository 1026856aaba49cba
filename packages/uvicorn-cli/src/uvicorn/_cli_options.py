"""Every option of the ``uvicorn`` command, in ``--help`` order.

Names, help texts and defaults are upstream's; the options beyond upstream
(request-head limits, RFC 7239 proxy headers) sit next to their relatives.
Defaults come from ``Config``'s signature so the two cannot drift apart.
Each option can also be set through ``UVICORN_<NAME>`` (click's automatic
environment variables, e.g. ``UVICORN_PORT``), the command line winning.
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Callable
from typing import Any, TypeVar

import click

from uvicorn import _cli_operations as operations
from uvicorn._cli_observability import admin_options, log_format_options
from uvicorn._cli_types import BoundedInt, HeaderType, ImplementationType
from uvicorn.config import (
    HTTP_PROTOCOLS,
    INTERFACES,
    LIFESPAN,
    LOG_LEVELS,
    LOOP_FACTORIES,
    SSL_PROTOCOL_VERSION,
    WS_PROTOCOLS,
    Config,
)

__all__ = ["server_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

_CONFIG_DEFAULTS = {
    name: parameter.default for name, parameter in inspect.signature(Config.__init__).parameters.items()
}
_MAX_PORT = 65535


def _default(name: str) -> Any:
    return _CONFIG_DEFAULTS[name]


def _shown_default(name: str) -> dict[str, Any]:
    """Config's default for ``name``, shown in ``--help``."""
    return {"default": _CONFIG_DEFAULTS[name], "show_default": True}


def _names(choices: dict[str, Any]) -> list[str]:
    # "none" works but is not advertised, as upstream.
    return [name for name in choices if name != "none"]


def _reload_options() -> list[Callable[[_F], _F]]:
    return [
        click.option("--reload", is_flag=True, default=False, help="Enable auto-reload."),
        click.option(
            "--reload-dir",
            "reload_dirs",
            multiple=True,
            type=click.Path(exists=True),
            help="Set reload directories explicitly, instead of using the current working directory.",
        ),
        click.option(
            "--reload-include",
            "reload_includes",
            multiple=True,
            help="Set glob patterns to include while watching for files. Includes '*.py' by default; "
            "these defaults can be overridden with `--reload-exclude`. "
            "This option has no effect unless watchfiles is installed.",
        ),
        click.option(
            "--reload-exclude",
            "reload_excludes",
            multiple=True,
            help="Set glob patterns to exclude while watching for files. Includes '.*, .py[cod], .sw.*, ~*' "
            "by default; these defaults can be overridden with `--reload-include`. "
            "This option has no effect unless watchfiles is installed.",
        ),
        click.option(
            "--reload-delay",
            type=float,
            **_shown_default("reload_delay"),
            help="Delay between previous and next check if application needs to be. Defaults to 0.25s.",
        ),
        click.option(
            "--workers",
            type=BoundedInt(min=1),
            default=None,
            help="Number of worker processes. Defaults to the $WEB_CONCURRENCY environment variable "
            "if available, or 1. Not valid with --reload.",
        ),
    ]


def _implementation_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--loop",
            type=ImplementationType(_names(LOOP_FACTORIES), passed_on=["zuvloop", "none"]),
            **_shown_default("loop"),
            help="Event loop factory implementation.",
        ),
        click.option(
            "--http",
            type=ImplementationType(list(HTTP_PROTOCOLS), passed_on=["zttp"]),
            **_shown_default("http"),
            help="HTTP protocol implementation.",
        ),
        click.option(
            "--http2",
            is_flag=True,
            default=False,
            help="Enable HTTP/2 support (TLS with ALPN, h2c prior knowledge and h2c upgrade) "
            "next to HTTP/1.1; needs zttp or h2 installed.",
        ),
        click.option(
            "--http2-engine",
            type=click.Choice(["auto", "h2", "zttp"]),
            **_shown_default("http2_engine"),
            help="Library that frames HTTP/2: auto takes zttp when installed (faster), else h2.",
        ),
        click.option(
            "--http2-max-concurrent-streams",
            type=BoundedInt(min=1),
            **_shown_default("http2_max_concurrent_streams"),
            help="HTTP/2 streams a client may have open on one connection (advertised); "
            "more are refused with REFUSED_STREAM.",
        ),
        click.option(
            "--http2-max-resets",
            type=BoundedInt(min=1),
            **_shown_default("http2_max_resets"),
            help="HTTP/2 streams a client may reset in 10 seconds before the connection is closed "
            "with ENHANCE_YOUR_CALM (rapid reset).",
        ),
        click.option(
            "--http2-max-control-frames",
            type=BoundedInt(min=1),
            **_shown_default("http2_max_control_frames"),
            help="HTTP/2 PING, SETTINGS and empty DATA frames a client may send in 10 seconds before "
            "the connection is closed with ENHANCE_YOUR_CALM.",
        ),
        click.option(
            "--http2-header-table-size",
            type=BoundedInt(min=0),
            **_shown_default("http2_header_table_size"),
            help="HPACK dynamic table size in bytes the server lets a client use (at most 4096 with zttp).",
        ),
        click.option(
            "--ws",
            type=ImplementationType(_names(WS_PROTOCOLS), passed_on=["none"]),
            **_shown_default("ws"),
            help="WebSocket protocol implementation.",
        ),
        click.option(
            "--ws-max-size",
            type=int,
            **_shown_default("ws_max_size"),
            help="WebSocket max size message in bytes",
        ),
        click.option(
            "--ws-max-queue",
            type=int,
            **_shown_default("ws_max_queue"),
            help="The maximum length of the WebSocket message queue.",
        ),
        click.option(
            "--ws-ping-interval",
            type=float,
            **_shown_default("ws_ping_interval"),
            help="WebSocket ping interval in seconds.",
        ),
        click.option(
            "--ws-ping-timeout",
            type=float,
            **_shown_default("ws_ping_timeout"),
            help="WebSocket ping timeout in seconds.",
        ),
        click.option(
            "--ws-per-message-deflate",
            type=bool,
            **_shown_default("ws_per_message_deflate"),
            help="WebSocket per-message-deflate compression",
        ),
        click.option(
            "--lifespan",
            type=click.Choice(list(LIFESPAN)),
            **_shown_default("lifespan"),
            help="Lifespan implementation.",
        ),
        click.option(
            "--interface",
            type=click.Choice(INTERFACES),
            **_shown_default("interface"),
            help="Select ASGI3, ASGI2, or WSGI as the application interface.",
        ),
    ]


def _logging_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--env-file",
            type=click.Path(exists=True, dir_okay=False),
            metavar="PATH",
            default=None,
            help="Environment configuration file.",
        ),
        click.option(
            "--log-config",
            type=click.Path(exists=True, dir_okay=False),
            metavar="PATH",
            default=None,
            help="Logging configuration file. Supported formats: .ini, .json, .yaml.",
        ),
        click.option(
            "--log-level",
            type=click.Choice(list(LOG_LEVELS)),
            default=None,
            help="Log level. [default: info]",
        ),
        click.option(
            "--access-log/--no-access-log", default=_default("access_log"), help="Enable/Disable access log."
        ),
        click.option("--use-colors/--no-use-colors", default=None, help="Enable/Disable colorized logging."),
    ]


def _proxy_and_header_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--proxy-headers/--no-proxy-headers",
            default=_default("proxy_headers"),
            help="Enable/Disable X-Forwarded-Proto, X-Forwarded-For to populate url scheme and "
            "remote address info.",
        ),
        click.option(
            "--proxy-forwarded/--no-proxy-forwarded",
            **_shown_default("proxy_forwarded"),
            help="Enable/Disable the RFC 7239 Forwarded header from trusted proxies: when a request has "
            "one, it sets the client address, scheme and host instead of the X-Forwarded-* headers.",
        ),
        click.option(
            "--proxy-x-forwarded-host/--no-proxy-x-forwarded-host",
            **_shown_default("proxy_x_forwarded_host"),
            help="Enable/Disable X-Forwarded-Host from trusted proxies to set the Host header "
            "the application sees.",
        ),
        click.option(
            "--server-header/--no-server-header",
            default=_default("server_header"),
            help="Enable/Disable default Server header.",
        ),
        click.option(
            "--date-header/--no-date-header",
            default=_default("date_header"),
            help="Enable/Disable default Date header.",
        ),
        click.option(
            "--forwarded-allow-ips",
            type=str,
            default=None,
            help="Comma separated list of IP Addresses, IP Networks, or literals (e.g. UNIX Socket path) "
            "to trust with proxy headers. Defaults to the $FORWARDED_ALLOW_IPS environment variable if "
            "available, or '127.0.0.1,::1'. The literal '*' means trust everything.",
        ),
        click.option(
            "--root-path",
            type=str,
            default=_default("root_path"),
            help="Set the ASGI 'root_path' for applications submounted below a given URL path.",
        ),
    ]


def _limit_options() -> list[Callable[[_F], _F]]:
    positive = BoundedInt(min=1)
    return [
        click.option(
            "--limit-concurrency",
            type=positive,
            default=None,
            help="Maximum number of concurrent connections or tasks to allow, before issuing HTTP 503 "
            "responses.",
        ),
        click.option(
            "--backlog",
            type=positive,
            default=_default("backlog"),
            help="Maximum number of connections to hold in backlog",
        ),
        click.option(
            "--limit-max-requests",
            type=positive,
            default=None,
            help="Maximum number of requests to service before terminating the process.",
        ),
        click.option(
            "--limit-max-requests-jitter",
            type=BoundedInt(min=0),
            **_shown_default("limit_max_requests_jitter"),
            help="Maximum jitter to add to limit_max_requests. Staggers worker restarts to avoid all "
            "workers restarting simultaneously.",
        ),
    ]


def _timeout_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--timeout-keep-alive",
            type=BoundedInt(min=0),
            **_shown_default("timeout_keep_alive"),
            help="Close Keep-Alive connections if no new data is received within this timeout (in seconds).",
        ),
        click.option(
            "--timeout-graceful-shutdown",
            type=BoundedInt(min=0),
            default=None,
            help="Maximum number of seconds to wait for graceful shutdown.",
        ),
        click.option(
            "--timeout-worker-healthcheck",
            type=BoundedInt(min=1),
            **_shown_default("timeout_worker_healthcheck"),
            help="Maximum number of seconds to wait for a worker to respond to a healthcheck.",
        ),
    ]


def _tls_options() -> list[Callable[[_F], _F]]:
    return [
        click.option("--ssl-keyfile", type=str, default=None, help="SSL key file"),
        click.option("--ssl-certfile", type=str, default=None, help="SSL certificate file"),
        click.option("--ssl-keyfile-password", type=str, default=None, help="SSL keyfile password"),
        click.option(
            "--ssl-version",
            type=int,
            default=int(SSL_PROTOCOL_VERSION),
            show_default=True,
            help="SSL version to use (see stdlib ssl module's)",
        ),
        click.option(
            "--ssl-cert-reqs",
            type=int,
            default=int(ssl.CERT_NONE),
            show_default=True,
            help="Whether client certificate is required (see stdlib ssl module's)",
        ),
        click.option("--ssl-ca-certs", type=str, default=None, help="CA certificates file"),
        click.option(
            "--ssl-ciphers",
            type=str,
            default=None,
            help="Ciphers to use (see stdlib ssl module's). Defaults to OpenSSL's safe defaults.",
        ),
    ]


def _app_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--header",
            "headers",
            multiple=True,
            type=HeaderType(),
            help="Specify custom default HTTP response headers as a Name:Value pair",
        ),
        click.option(
            "--app-dir",
            default="",
            show_default=True,
            help="Look for APP in the specified directory, by adding this to the PYTHONPATH. "
            "Defaults to the current working directory.",
        ),
        click.option(
            "--h11-max-incomplete-event-size",
            type=BoundedInt(min=1),
            default=None,
            help="For h11, the maximum number of bytes to buffer of an incomplete event.",
        ),
        click.option(
            "--reset-contextvars",
            is_flag=True,
            default=False,
            help="Run each ASGI request in a fresh contextvars.Context. Hides context set in the lifespan.",
        ),
        click.option(
            "--factory",
            is_flag=True,
            default=False,
            help="Treat APP as an application factory, i.e. a () -> <ASGI app> callable.",
        ),
    ]


def _socket_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--host", type=str, default=_default("host"), show_default=True, help="Bind socket to this host."
        ),
        click.option(
            "--port",
            type=BoundedInt(0, _MAX_PORT),
            **_shown_default("port"),
            help="Bind socket to this port. If 0, an available port will be picked.",
        ),
        click.option("--uds", type=str, default=None, help="Bind to a UNIX domain socket."),
        click.option(
            "--fd", type=BoundedInt(min=0), default=None, help="Bind to socket from this file descriptor."
        ),
    ]


def server_options(version_option: Callable[[_F], _F]) -> Callable[[_F], _F]:
    """A decorator adding every option to a click command; ``version_option`` goes before ``--app-dir``."""
    header, *app = _app_options()
    groups: list[Callable[[Any], Any]] = [
        *_socket_options(),
        *operations.listener_options(),
        *_reload_options(),
        *operations.worker_recycling_options(),
        *_implementation_options(),
        *_logging_options(),
        *log_format_options(),
        *admin_options(),
        *_proxy_and_header_options(),
        *_limit_options(),
        *operations.request_limit_options(),
        *_timeout_options(),
        *operations.request_timeout_options(),
        *operations.stopping_options(),
        *_tls_options(),
        header,
        version_option,
        *app,
    ]

    def decorate(command: _F) -> _F:
        # click lists options in the order their decorators run last to first.
        for option in reversed(groups):
            command = option(command)
        return command

    return decorate
