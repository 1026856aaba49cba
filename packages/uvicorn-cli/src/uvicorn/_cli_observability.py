"""The ``uvicorn`` options beyond upstream for log formats, metrics and health endpoints.

``--access-log-format`` and ``--log-format`` sit with the logging options,
``--admin-port`` and ``--admin-host`` after them (docs/logging.md, docs/metrics.md).
Each has a ``UVICORN_*`` variable like every other option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from uvicorn._cli_setting import PORT, setting

__all__ = ["admin_options", "log_format_options"]

_F = TypeVar("_F", bound=Callable[..., Any])


def log_format_options() -> list[Callable[[_F], _F]]:
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


def admin_options() -> list[Callable[[_F], _F]]:
    return [
        setting(
            "--admin-port",
            PORT,
            "Serve Prometheus /metrics, /livez and /readyz on this port (never the app). "
            "Needs prometheus-client.",
        ),
        setting("--admin-host", str, "Bind the --admin-port listener to this host."),
    ]
