"""The ``uvicorn`` options beyond upstream for listeners and worker recycling.

``--bind`` (repeatable) and ``--reuse-port`` sit with the socket options;
``--limit-max-memory`` and ``--max-worker-lifetime(-jitter)`` with the worker
options. Each has a ``UVICORN_*`` variable like every other option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from uvicorn._bind_addresses import BIND_FORMS, parse_bind_address
from uvicorn._cli_types import BoundedFloat, BoundedInt

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType

__all__ = ["BindAddressType", "check_bind_alone", "listener_options", "worker_recycling_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

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
