"""The ``uvicorn`` options beyond upstream: listeners, recycling, log formats, health, bounds, stopping.

``--bind`` (repeatable) and ``--reuse-port`` sit with the socket options;
``--limit-max-memory`` and ``--max-worker-lifetime(-jitter)`` with the worker
options; ``--access-log-format`` and ``--log-format`` with the logging options,
``--admin-port`` and ``--admin-host`` after them (docs/logging.md, docs/metrics.md);
the request-body, keep-alive and response-send bounds with the limits and
timeouts; ``--shutdown-delay`` and the lifespan timeouts after the other
timeouts. Each has a ``UVICORN_*`` variable like every other option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from uvicorn._bind_addresses import BIND_FORMS, parse_bind_address
from uvicorn._cli_setting import PORT, setting
from uvicorn._cli_types import BoundedFloat, BoundedInt

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType

__all__ = [
    "BindAddressType",
    "admin_options",
    "check_bind_alone",
    "listener_options",
    "log_format_options",
    "request_limit_options",
    "request_timeout_options",
    "stopping_options",
    "worker_recycling_options",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_Option = Callable[[_F], _F]

_LONGER_THAN_ZERO = BoundedFloat(above=0)


# The upstream ways to say where to listen, which --bind replaces.
_SINGLE_ADDRESS_OPTIONS = ("host", "port", "uds", "fd")


class BindAddressType(_ParamType):
    """One ``--bind`` address: ``HOST:PORT``, ``[IPv6]:PORT``, ``unix:PATH`` or ``fd://N``."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if parse_bind_address(str(value)) is None:
            self.fail(f"{value!r} is not an address: use {BIND_FORMS}.", param, ctx)
        return str(value)


def listener_options() -> list[_Option[Any]]:
    return [
        click.option(
            "--bind",
            multiple=True,
            type=BindAddressType(),
            help=f"Listen on this address: {BIND_FORMS}. Repeat it to listen on several. "
            "Replaces --host, --port, --uds and --fd.",
        ),
        setting(
            "--reuse-port",
            is_flag=True,
            help="With --workers, give each worker its own SO_REUSEPORT listening socket so the kernel "
            "spreads new connections evenly (Linux).",
        ),
    ]


def worker_recycling_options() -> list[_Option[Any]]:
    return [
        setting(
            "--limit-max-memory",
            BoundedInt(min=1),
            "Retire a worker gracefully (and start a new one) once its resident memory passes this many MiB.",
            metavar="MIB",
        ),
        setting(
            "--max-worker-lifetime",
            _LONGER_THAN_ZERO,
            "Retire a worker gracefully (and start a new one) after it has served this long.",
            metavar="SECONDS",
        ),
        setting(
            "--max-worker-lifetime-jitter",
            click.FloatRange(min=0),
            "Add up to this many random seconds to --max-worker-lifetime, so workers do not "
            "all restart together.",
            metavar="SECONDS",
        ),
    ]


def log_format_options() -> list[_Option[Any]]:
    return [
        setting(
            "--access-log-format",
            str,
            "Write each access line in this format, with gunicorn's atoms, e.g. "
            '\'%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"\'. '
            "Defaults to uvicorn's line.",
            metavar="FORMAT",
        ),
        setting(
            "--log-format",
            click.Choice(["text", "json"]),
            "Write uvicorn's log records as text lines, or as one JSON object per line. "
            "--log-config wins when given.",
        ),
    ]


def admin_options() -> list[_Option[Any]]:
    return [
        setting(
            "--admin-port",
            PORT,
            "Serve Prometheus /metrics, /livez and /readyz on this port (never the app). "
            "Needs prometheus-client.",
        ),
        setting("--admin-host", str, "Bind the --admin-port listener to this host."),
    ]


def request_limit_options() -> list[_Option[Any]]:
    return [
        setting(
            "--limit-request-line",
            BoundedInt(min=1),
            "Maximum size in bytes of a request line (method, target, version); "
            "a longer one is answered 414.",
        ),
        setting(
            "--limit-request-fields",
            BoundedInt(min=1),
            "Maximum number of header fields in a request; more are answered 431.",
        ),
        setting(
            "--limit-request-head-size",
            BoundedInt(min=1),
            "Maximum size in bytes of a whole request head (request line and headers); "
            "a larger one is answered 431.",
        ),
        setting(
            "--limit-request-body",
            BoundedInt(min=1),
            "Maximum size in bytes of a request body: a larger announced one is answered 413 before "
            "the app runs, one that grows past it is cut (413, or a close once the response began).",
            metavar="BYTES",
        ),
        setting(
            "--limit-keep-alive-requests",
            BoundedInt(min=1),
            "Serve at most this many requests on one connection (HTTP/2: streams), then close it "
            "(the last response says 'connection: close').",
        ),
    ]


def request_timeout_options() -> list[_Option[Any]]:
    return [
        setting(
            "--timeout-request-head",
            _LONGER_THAN_ZERO,
            "Close a connection whose request head (request line and headers) is not complete "
            "within this many seconds of the connection opening or the previous response.",
        ),
        setting(
            "--timeout-request-body",
            _LONGER_THAN_ZERO,
            "While the app waits for more of a request body, the longest gap between two pieces: "
            "past it the app sees a disconnect and the client gets 408.",
            metavar="SECONDS",
        ),
        setting(
            "--timeout-response-send",
            _LONGER_THAN_ZERO,
            "Close a connection whose buffered response bytes have not moved for this long (a "
            "client that stopped reading).",
            metavar="SECONDS",
        ),
    ]


def stopping_options() -> list[_Option[Any]]:
    return [
        setting(
            "--shutdown-delay",
            click.FloatRange(min=0),
            "On SIGTERM or SIGINT, keep serving (reported not ready) for this long before the "
            "graceful shutdown starts, for load balancers to notice (Kubernetes preStop).",
            metavar="SECONDS",
        ),
        setting(
            "--timeout-lifespan-startup",
            _LONGER_THAN_ZERO,
            "Fail the startup (exit code 3) when the application's lifespan startup takes longer.",
            metavar="SECONDS",
        ),
        setting(
            "--timeout-lifespan-shutdown",
            _LONGER_THAN_ZERO,
            "Stop waiting for the application's lifespan shutdown after this long, and exit.",
            metavar="SECONDS",
        ),
    ]


def check_bind_alone(ctx: click.Context) -> None:
    """Usage error (exit 2) when ``--bind`` is given together with --host, --port, --uds or --fd."""
    source_of = getattr(ctx, "get_parameter_source", None)
    if not ctx.params.get("bind") or source_of is None:
        return  # click 7 cannot tell a default from a given value: Config checks (exit 3)
    defaults = {"DEFAULT", "DEFAULT_MAP"}
    given = [
        name
        for name in _SINGLE_ADDRESS_OPTIONS
        if (source := source_of(name)) is not None and source.name not in defaults
    ]
    if given:
        flags = " or ".join("--" + name for name in given)
        raise click.UsageError(
            f"--bind cannot be combined with {flags}: give every address with --bind.", ctx
        )
