"""The ``uvicorn`` options beyond upstream for log formats, metrics and health endpoints.

``--access-log-format`` and ``--log-format`` sit with the logging options,
``--admin-port`` and ``--admin-host`` after them (docs/logging.md, docs/metrics.md).
Each has a ``UVICORN_*`` variable like every other option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from uvicorn._cli_types import BoundedInt

__all__ = ["admin_options", "log_format_options"]

_F = TypeVar("_F", bound=Callable[..., Any])
_MAX_PORT = 65535


def log_format_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--access-log-format",
            type=str,
            default=None,
            metavar="FORMAT",
            help="Write each access line in this format, with gunicorn's atoms, e.g. "
            '\'%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"\'. '
            "Defaults to uvicorn's line.",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="Write uvicorn's log records as text lines, or as one JSON object per line. "
            "--log-config wins when given.",
        ),
    ]


def admin_options() -> list[Callable[[_F], _F]]:
    return [
        click.option(
            "--admin-port",
            type=BoundedInt(0, _MAX_PORT),
            default=None,
            help="Serve Prometheus /metrics, /livez and /readyz on this port (never the app). "
            "Needs prometheus-client.",
        ),
        click.option(
            "--admin-host",
            type=str,
            default="127.0.0.1",
            show_default=True,
            help="Bind the --admin-port listener to this host.",
        ),
    ]
