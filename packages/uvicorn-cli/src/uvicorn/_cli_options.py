"""Every option of the ``uvicorn`` command, in ``--help`` order.

Names, help texts and defaults are upstream's; the options beyond upstream
(request-head limits, RFC 7239 proxy headers) sit next to their relatives.
Defaults come from ``Config``'s signature (``setting()``) so the two cannot
drift apart. Each option can also be set through ``UVICORN_<NAME>`` (click's
automatic environment variables, e.g. ``UVICORN_PORT``), the command line winning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from uvicorn import _cli_operations as operations
from uvicorn._cli_setting import PORT, setting
from uvicorn._cli_types import BoundedInt, HeaderType, ImplementationType
from uvicorn.config import HTTP_PROTOCOLS, INTERFACES, LIFESPAN, LOG_LEVELS, LOOP_FACTORIES, WS_PROTOCOLS

__all__ = ["server_options"]

_F = TypeVar("_F", bound=Callable[..., Any])
_Option = Callable[[_F], _F]

_POSITIVE = BoundedInt(min=1)
_NOT_NEGATIVE = BoundedInt(min=0)
_FILE = click.Path(exists=True, dir_okay=False)


def _names(choices: dict[str, Any]) -> list[str]:
    # "none" works but is not advertised, as upstream.
    return [name for name in choices if name != "none"]


def _patterns(option: str, defaults: str, other: str) -> _Option[Any]:
    return click.option(
        f"--reload-{option}",
        f"reload_{option}s",
        multiple=True,
        help=f"Set glob patterns to {option} while watching for files. Includes {defaults} by default; "
        f"these defaults can be overridden with `--reload-{other}`. "
        "This option has no effect unless watchfiles is installed.",
    )


def _reload_options() -> list[_Option[Any]]:
    return [
        setting("--reload", is_flag=True, help="Enable auto-reload."),
        click.option(
            "--reload-dir",
            "reload_dirs",
            multiple=True,
            type=click.Path(exists=True),
            help="Set reload directories explicitly, instead of using the current working directory.",
        ),
        _patterns("include", "'*.py'", "exclude"),
        _patterns("exclude", "'.*, .py[cod], .sw.*, ~*'", "include"),
        setting(
            "--reload-delay",
            float,
            "Delay between previous and next check if application needs to be. Defaults to 0.25s.",
        ),
        setting(
            "--workers",
            _POSITIVE,
            "Number of worker processes. Defaults to the $WEB_CONCURRENCY environment variable "
            "if available, or 1. Not valid with --reload.",
        ),
    ]


def _http2_options() -> list[_Option[Any]]:
    return [
        setting(
            "--http2",
            is_flag=True,
            help="Enable HTTP/2 support (TLS with ALPN, h2c prior knowledge and h2c upgrade) "
            "next to HTTP/1.1; needs zttp or h2 installed.",
        ),
        setting(
            "--http2-engine",
            click.Choice(["auto", "h2", "zttp"]),
            "Library that frames HTTP/2: auto takes zttp when installed (faster), else h2.",
        ),
        setting(
            "--http2-max-concurrent-streams",
            _POSITIVE,
            "HTTP/2 streams a client may have open on one connection (advertised); "
            "more are refused with REFUSED_STREAM.",
        ),
        setting(
            "--http2-max-resets",
            _POSITIVE,
            "HTTP/2 streams a client may reset in 10 seconds before the connection is closed "
            "with ENHANCE_YOUR_CALM (rapid reset).",
        ),
        setting(
            "--http2-max-control-frames",
            _POSITIVE,
            "HTTP/2 PING, SETTINGS and empty DATA frames a client may send in 10 seconds before "
            "the connection is closed with ENHANCE_YOUR_CALM.",
        ),
        setting(
            "--http2-header-table-size",
            _NOT_NEGATIVE,
            "HPACK dynamic table size in bytes the server lets a client use (at most 4096 with zttp).",
        ),
    ]


def _implementation_options() -> list[_Option[Any]]:
    loops = ImplementationType(_names(LOOP_FACTORIES), passed_on=["zuvloop", "none"])
    http = ImplementationType(list(HTTP_PROTOCOLS), passed_on=["zttp"])
    websockets = ImplementationType(_names(WS_PROTOCOLS), passed_on=["none"])
    return [
        setting("--loop", loops, "Event loop factory implementation."),
        setting("--http", http, "HTTP protocol implementation."),
        *_http2_options(),
        setting("--ws", websockets, "WebSocket protocol implementation."),
        setting("--ws-max-size", int, "WebSocket max size message in bytes"),
        setting("--ws-max-queue", int, "The maximum length of the WebSocket message queue."),
        setting("--ws-ping-interval", float, "WebSocket ping interval in seconds."),
        setting("--ws-ping-timeout", float, "WebSocket ping timeout in seconds."),
        setting("--ws-per-message-deflate", bool, "WebSocket per-message-deflate compression"),
        setting("--lifespan", click.Choice(list(LIFESPAN)), "Lifespan implementation."),
        setting(
            "--interface",
            click.Choice(INTERFACES),
            "Select ASGI3, ASGI2, or WSGI as the application interface.",
        ),
    ]


def _logging_options() -> list[_Option[Any]]:
    return [
        setting("--env-file", _FILE, "Environment configuration file.", metavar="PATH"),
        click.option(
            "--log-config",
            type=_FILE,
            metavar="PATH",
            default=None,  # Config's default (LOGGING_CONFIG) is filled in by the command
            help="Logging configuration file. Supported formats: .ini, .json, .yaml.",
        ),
        setting("--log-level", click.Choice(list(LOG_LEVELS)), "Log level. [default: info]"),
        setting("--access-log/--no-access-log", help="Enable/Disable access log.", hide_default=True),
        setting("--use-colors/--no-use-colors", help="Enable/Disable colorized logging."),
    ]


def _proxy_and_header_options() -> list[_Option[Any]]:
    return [
        setting(
            "--proxy-headers/--no-proxy-headers",
            help="Enable/Disable X-Forwarded-Proto, X-Forwarded-For to populate url scheme and "
            "remote address info.",
            hide_default=True,
        ),
        setting(
            "--proxy-forwarded/--no-proxy-forwarded",
            help="Enable/Disable the RFC 7239 Forwarded header from trusted proxies: when a request has "
            "one, it sets the client address, scheme and host instead of the X-Forwarded-* headers.",
        ),
        setting(
            "--proxy-x-forwarded-host/--no-proxy-x-forwarded-host",
            help="Enable/Disable X-Forwarded-Host from trusted proxies to set the Host header "
            "the application sees.",
        ),
        setting(
            "--server-header/--no-server-header",
            help="Enable/Disable default Server header.",
            hide_default=True,
        ),
        setting(
            "--date-header/--no-date-header", help="Enable/Disable default Date header.", hide_default=True
        ),
        setting(
            "--forwarded-allow-ips",
            str,
            "Comma separated list of IP Addresses, IP Networks, or literals (e.g. UNIX Socket path) "
            "to trust with proxy headers. Defaults to the $FORWARDED_ALLOW_IPS environment variable if "
            "available, or '127.0.0.1,::1'. The literal '*' means trust everything.",
        ),
        setting(
            "--root-path",
            str,
            "Set the ASGI 'root_path' for applications submounted below a given URL path.",
            hide_default=True,
        ),
    ]


def _limit_options() -> list[_Option[Any]]:
    return [
        setting(
            "--limit-concurrency",
            _POSITIVE,
            "Maximum number of concurrent connections or tasks to allow, before issuing HTTP 503 responses.",
        ),
        setting(
            "--backlog", _POSITIVE, "Maximum number of connections to hold in backlog", hide_default=True
        ),
        setting(
            "--limit-max-requests",
            _POSITIVE,
            "Maximum number of requests to service before terminating the process.",
        ),
        setting(
            "--limit-max-requests-jitter",
            _NOT_NEGATIVE,
            "Maximum jitter to add to limit_max_requests. Staggers worker restarts to avoid all "
            "workers restarting simultaneously.",
        ),
    ]


def _timeout_options() -> list[_Option[Any]]:
    return [
        setting(
            "--timeout-keep-alive",
            _NOT_NEGATIVE,
            "Close Keep-Alive connections if no new data is received within this timeout (in seconds).",
        ),
        setting(
            "--timeout-graceful-shutdown",
            _NOT_NEGATIVE,
            "Maximum number of seconds to wait for graceful shutdown.",
        ),
        setting(
            "--timeout-worker-healthcheck",
            _POSITIVE,
            "Maximum number of seconds to wait for a worker to respond to a healthcheck.",
        ),
    ]


def _tls_options() -> list[_Option[Any]]:
    return [
        setting("--ssl-keyfile", str, "SSL key file"),
        setting("--ssl-certfile", str, "SSL certificate file"),
        setting("--ssl-keyfile-password", str, "SSL keyfile password"),
        setting("--ssl-version", int, "SSL version to use (see stdlib ssl module's)"),
        setting("--ssl-cert-reqs", int, "Whether client certificate is required (see stdlib ssl module's)"),
        setting("--ssl-ca-certs", str, "CA certificates file"),
        setting(
            "--ssl-ciphers",
            str,
            "Ciphers to use (see stdlib ssl module's). Defaults to OpenSSL's safe defaults.",
        ),
    ]


def _app_options() -> list[_Option[Any]]:
    return [
        click.option(
            "--app-dir",
            default="",
            show_default=True,
            help="Look for APP in the specified directory, by adding this to the PYTHONPATH. "
            "Defaults to the current working directory.",
        ),
        setting(
            "--h11-max-incomplete-event-size",
            _POSITIVE,
            "For h11, the maximum number of bytes to buffer of an incomplete event.",
        ),
        setting(
            "--reset-contextvars",
            is_flag=True,
            help="Run each ASGI request in a fresh contextvars.Context. Hides context set in the lifespan.",
        ),
        setting(
            "--factory",
            is_flag=True,
            help="Treat APP as an application factory, i.e. a () -> <ASGI app> callable.",
        ),
    ]


def _socket_options() -> list[_Option[Any]]:
    return [
        setting("--host", str, "Bind socket to this host."),
        setting("--port", PORT, "Bind socket to this port. If 0, an available port will be picked."),
        setting("--uds", str, "Bind to a UNIX domain socket."),
        setting("--fd", _NOT_NEGATIVE, "Bind to socket from this file descriptor."),
    ]


def server_options(version_option: _Option[Any]) -> _Option[_F]:
    """A decorator adding every option to a click command; ``version_option`` goes before ``--app-dir``."""
    header = click.option(
        "--header",
        "headers",
        multiple=True,
        type=HeaderType(),
        help="Specify custom default HTTP response headers as a Name:Value pair",
    )
    groups: list[_Option[Any]] = [
        *_socket_options(),
        *operations.listener_options(),
        *_reload_options(),
        *operations.worker_recycling_options(),
        *_implementation_options(),
        *_logging_options(),
        *operations.log_format_options(),
        *operations.admin_options(),
        *_proxy_and_header_options(),
        *_limit_options(),
        *operations.request_limit_options(),
        *_timeout_options(),
        *operations.request_timeout_options(),
        *operations.stopping_options(),
        *_tls_options(),
        header,
        version_option,
        *_app_options(),
    ]

    def decorate(command: _F) -> _F:
        # click lists options in the order their decorators run last to first.
        for option in reversed(groups):
            command = option(command)
        return command

    return decorate
