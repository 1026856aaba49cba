"""The ``uvicorn`` options beyond upstream for listeners, worker recycling, request bounds and stopping.

``--bind`` (repeatable) and ``--reuse-port`` sit with the socket options;
``--limit-max-memory`` and ``--max-worker-lifetime(-jitter)`` with the worker
options; the request-body, keep-alive and response-send bounds with the limits
and timeouts; ``--shutdown-delay`` and the lifespan timeouts after the other
timeouts. Each has a ``UVICORN_*`` variable like every other option.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from uvicorn._bind_addresses import BIND_FORMS, parse_bind_address
from uvicorn._cli_types import BoundedFloat, BoundedInt
from uvicorn.config import Config

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType

__all__ = [
    "BindAddressType",
    "check_bind_alone",
    "listener_options",
    "request_limit_options",
    "request_timeout_options",
    "stopping_options",
    "worker_recycling_options",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _shown_default(name: str) -> dict[str, Any]:
    """Config's default for ``name`` (the two cannot drift apart), shown in ``--help``."""
    return {"default": inspect.signature(Config).parameters[name].default, "show_default": True}


# The upstream ways to say where to listen, which --bind replaces.
_SINGLE_ADDRESS_OPTIONS = ("host", "port", "uds", "fd")


class BindAddressType(_ParamType):
    """One ``--bind`` address: ``HOST:PORT``, ``[IPv6]:PORT``, ``unix:PATH`` or ``fd://N``."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if parse_bind_address(str(value)) is None:
            self.fail(f"{value!r} is not an address: use {BIND_FORMS}.", param, ctx)
        return str(value)


def listener_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--bind",
            multiple=True,
            type=BindAddressType(),
            help=f"Listen on this address: {BIND_FORMS}. Repeat it to listen on several. "
            "Replaces --host, --port, --uds and --fd.",
        ),
        click.option(
            "--reuse-port",
            is_flag=True,
            default=False,
            help="With --workers, give each worker its own SO_REUSEPORT listening socket so the kernel "
            "spreads new connections evenly (Linux).",
        ),
    ]


def worker_recycling_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--limit-max-memory",
            type=BoundedInt(min=1),
            default=None,
            metavar="MIB",
            help="Retire a worker gracefully (and start a new one) once its resident memory passes "
            "this many MiB.",
        ),
        click.option(
            "--max-worker-lifetime",
            type=BoundedFloat(above=0),
            default=None,
            metavar="SECONDS",
            help="Retire a worker gracefully (and start a new one) after it has served this long.",
        ),
        click.option(
            "--max-worker-lifetime-jitter",
            type=click.FloatRange(min=0),
            default=0,
            show_default=True,
            metavar="SECONDS",
            help="Add up to this many random seconds to --max-worker-lifetime, so workers do not "
            "all restart together.",
        ),
    ]


def request_limit_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--limit-request-line",
            type=BoundedInt(min=1),
            **_shown_default("limit_request_line"),
            help="Maximum size in bytes of a request line (method, target, version); "
            "a longer one is answered 414.",
        ),
        click.option(
            "--limit-request-fields",
            type=BoundedInt(min=1),
            **_shown_default("limit_request_fields"),
            help="Maximum number of header fields in a request; more are answered 431.",
        ),
        click.option(
            "--limit-request-head-size",
            type=BoundedInt(min=1),
            **_shown_default("limit_request_head_size"),
            help="Maximum size in bytes of a whole request head (request line and headers); "
            "a larger one is answered 431.",
        ),
        click.option(
            "--limit-request-body",
            type=BoundedInt(min=1),
            default=None,
            metavar="BYTES",
            help="Maximum size in bytes of a request body: a larger announced one is answered 413 before "
            "the app runs, one that grows past it is cut (413, or a close once the response began).",
        ),
        click.option(
            "--limit-keep-alive-requests",
            type=BoundedInt(min=1),
            default=None,
            help="Serve at most this many requests on one connection (HTTP/2: streams), then close it "
            "(the last response says 'connection: close').",
        ),
    ]


def request_timeout_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--timeout-request-head",
            type=BoundedFloat(above=0),
            **_shown_default("timeout_request_head"),
            help="Close a connection whose request head (request line and headers) is not complete "
            "within this many seconds of the connection opening or the previous response.",
        ),
        click.option(
            "--timeout-request-body",
            type=BoundedFloat(above=0),
            **_shown_default("timeout_request_body"),
            metavar="SECONDS",
            help="While the app waits for more of a request body, the longest gap between two pieces: "
            "past it the app sees a disconnect and the client gets 408.",
        ),
        click.option(
            "--timeout-response-send",
            type=BoundedFloat(above=0),
            **_shown_default("timeout_response_send"),
            metavar="SECONDS",
            help="Close a connection whose buffered response bytes have not moved for this long (a "
            "client that stopped reading).",
        ),
    ]


def stopping_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--shutdown-delay",
            type=click.FloatRange(min=0),
            **_shown_default("shutdown_delay"),
            metavar="SECONDS",
            help="On SIGTERM or SIGINT, keep serving (reported not ready) for this long before the "
            "graceful shutdown starts, for load balancers to notice (Kubernetes preStop).",
        ),
        click.option(
            "--timeout-lifespan-startup",
            type=BoundedFloat(above=0),
            default=None,
            metavar="SECONDS",
            help="Fail the startup (exit code 3) when the application's lifespan startup takes longer.",
        ),
        click.option(
            "--timeout-lifespan-shutdown",
            type=BoundedFloat(above=0),
            default=None,
            metavar="SECONDS",
            help="Stop waiting for the application's lifespan shutdown after this long, and exit.",
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
