"""How a ``Config`` sets up logging: ``log_config``, shaped by ``log_format`` and ``access_log_format``,
then ``log_level`` and ``access_log`` on uvicorn's loggers.

``log_format="json"`` and ``access_log_format`` shape uvicorn's default
configuration (:data:`uvicorn.logging.LOGGING_CONFIG`) only: a ``log_config`` of
one's own is applied as given (its formatters decide how records look; access
records carry their fields as attributes and, with ``access_log_format``, the
line as their message).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Literal

from uvicorn._startup import InvalidOptionError
from uvicorn.logging import LOG_LEVELS, LOGGING_CONFIG, LogConfig, apply_log_config
from uvicorn.protocols.http.access_format import AccessFormatError, compile_access_format

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["LOG_FORMATS", "access_log_timing", "configure_logging", "numeric_log_level", "shaped_log_config"]

#: The values of ``log_format``.
LOG_FORMATS = ("text", "json")


def configure_logging(config: Config, open_file: Callable[[str], IO[Any]] = open) -> None:
    """Apply ``config``'s ``log_config`` (shaped: see the module docstring), ``log_level``, ``access_log``."""
    if isinstance(config.log_config, os.PathLike):
        config.log_config = os.fspath(config.log_config)  # as upstream: the attribute becomes a str
    log_config = shaped_log_config(config.log_config, config.log_format, config.access_log_format)
    shaped_for_json = log_config is not config.log_config and config.log_format == "json"
    use_colors = None if shaped_for_json else config.use_colors
    apply_log_config(log_config, use_colors, open_file=open_file)
    if config.log_level is not None:
        level = numeric_log_level(config.log_level)
        for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
            logging.getLogger(name).setLevel(level)
    if config.access_log is False:
        access_logger = logging.getLogger("uvicorn.access")
        access_logger.handlers = []
        access_logger.propagate = False


def shaped_log_config(log_config: LogConfig, log_format: str, access_log_format: str | None) -> LogConfig:
    """What to apply: :data:`LOGGING_CONFIG` with JSON or custom-access formatters; others as given."""
    if log_config is not LOGGING_CONFIG:
        return log_config
    formatters: dict[str, Any]
    if log_format == "json":
        formatters = {
            "default": {"()": "uvicorn.logging.JSONFormatter"},
            "access": {"()": "uvicorn.logging.JSONFormatter"},
        }
    elif access_log_format is not None:
        # The format is the whole line, as gunicorn writes it (no level prefix).
        formatters = {
            **LOGGING_CONFIG["formatters"],
            "access": {"()": "uvicorn.logging.AccessFormatter", "fmt": "%(message)s"},
        }
    else:
        return log_config
    return {**LOGGING_CONFIG, "formatters": {name: dict(value) for name, value in formatters.items()}}


def access_log_timing(config: Config) -> Literal["head", "end"]:
    """``"end"`` when access lines need the response's end: JSON logs, or a format showing size or time."""
    if config.log_format == "json":
        return "end"
    if config.access_log_format is None:
        return "head"
    try:
        return "end" if compile_access_format(config.access_log_format).needs_end else "head"
    except AccessFormatError:
        return "head"  # Config.load refuses it


def numeric_log_level(log_level: str | int) -> int:
    """``log_level`` as a number (a name of :data:`LOG_LEVELS` or a number already)."""
    if isinstance(log_level, int):
        return log_level
    level = LOG_LEVELS.get(str(log_level).lower())
    if level is None:
        raise InvalidOptionError(
            f"Invalid value for 'log_level' (--log-level): {log_level!r}. Use one of {', '.join(LOG_LEVELS)}."
        )
    return level
