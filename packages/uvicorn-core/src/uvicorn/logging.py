"""uvicorn's log formatters, its default logging configuration and how a ``log_config`` is applied.

Loggers: ``uvicorn.error`` (server messages), ``uvicorn.access`` (one line per
response, args ``(client_addr, method, full_path, http_version, status_code)``,
or with ``access_log_format`` the format and a dict of its atoms; every access
record also carries :data:`ACCESS_FIELDS` as attributes) and ``uvicorn.asgi``
(ASGI message tracing at the TRACE level).
"""

from __future__ import annotations

import configparser
import http
import json
import logging
import logging.config
import os
import sys
import time
from collections.abc import Callable
from copy import copy
from functools import cached_property, partial
from typing import IO, TYPE_CHECKING, Any, Literal

from uvicorn._ansi import style
from uvicorn._startup import MissingDependencyError, StartupError

if TYPE_CHECKING:
    from uvicorn.protocols.contract import AccessLineFormatter

__all__ = [
    "ACCESS_FIELDS",
    "LOGGING_CONFIG",
    "LOG_LEVELS",
    "TRACE_LOG_LEVEL",
    "AccessFormatter",
    "ColourizedFormatter",
    "DefaultFormatter",
    "JSONFormatter",
    "LogConfigError",
    "LogConfigNeedsPyYAML",
    "apply_log_config",
]

#: Below DEBUG: per-connection and per-ASGI-message tracing.
TRACE_LOG_LEVEL = 5
logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")

LOG_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE_LOG_LEVEL,
}

#: The default ``log_config``. Public: users copy it as a starting point, and tests
#: adjust it. :func:`apply_log_config` never modifies it.
LOGGING_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": None,
        },
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    },
    "handlers": {
        "default": {
            "formatter": "default",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}

_ACCESS_FORMAT = LOGGING_CONFIG["formatters"]["access"]["fmt"]

# The level name is padded to this width so messages line up ("INFO:     ", "WARNING:  ").
_LEVEL_PREFIX_WIDTH = 8


class ColourizedFormatter(logging.Formatter):
    """A formatter that offers ``%(levelprefix)s`` ("INFO:" padded), coloured by level when enabled.

    When colours are on and the log call passed ``extra={"color_message": ...}``,
    that format string is used instead of ``msg`` (with the same args).
    ``use_colors=None`` (or anything not a bool) decides by :meth:`should_use_colors`.
    """

    level_name_colors: dict[int, Callable[[str], str]] = {
        TRACE_LOG_LEVEL: partial(style, fg="blue"),
        logging.DEBUG: partial(style, fg="cyan"),
        logging.INFO: partial(style, fg="green"),
        logging.WARNING: partial(style, fg="yellow"),
        logging.ERROR: partial(style, fg="red"),
        logging.CRITICAL: partial(style, fg="bright_red"),
    }

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        use_colors: bool | None = None,
    ) -> None:
        self.use_colors = use_colors if isinstance(use_colors, bool) else self.should_use_colors()
        super().__init__(fmt=fmt, datefmt=datefmt, style=style)

    def color_level_name(self, level_name: str, level_no: int) -> str:
        """``level_name`` in the colour of its level (unchanged for levels without one)."""
        colour = self.level_name_colors.get(level_no)
        return colour(level_name) if colour is not None else level_name

    def should_use_colors(self) -> bool:
        """Whether to colour when not told: only when writing to a terminal."""
        return sys.stdout.isatty()

    def formatMessage(self, record: logging.LogRecord) -> str:
        # Work on a copy: other handlers of the same record must not see our additions.
        record = copy(record)
        level_name = record.levelname
        padding = " " * max(_LEVEL_PREFIX_WIDTH - len(level_name), 0)
        if self.use_colors:
            level_name = self.color_level_name(level_name, record.levelno)
            color_message = record.__dict__.get("color_message")
            if color_message is not None:
                record.msg = color_message
                record.message = record.getMessage()
        record.levelprefix = f"{level_name}:{padding}"
        return super().formatMessage(record)


class DefaultFormatter(ColourizedFormatter):
    """The formatter of ``uvicorn.error``; it writes to stderr, so that is the terminal that counts."""

    def should_use_colors(self) -> bool:
        return sys.stderr.isatty()


class AccessFormatter(ColourizedFormatter):
    """Formats ``uvicorn.access`` records: ``%(client_addr)s``, ``%(request_line)s``, ``%(status_code)s``.

    The status code comes with its reason phrase ("404 Not Found") and, with
    colours on, is coloured by its class (2xx green, 4xx red, ...).
    """

    status_code_colours: dict[int, Callable[[str], str]] = {
        1: partial(style, fg="bright_white"),
        2: partial(style, fg="green"),
        3: partial(style, fg="yellow"),
        4: partial(style, fg="red"),
        5: partial(style, fg="bright_red"),
    }

    # What format_access reuses from one line to the next, made at its first call.

    @cached_property
    def _line_prefix(self) -> str | None:
        """The level prefix every access line starts with; None when format_access cannot build lines."""
        if type(self) is not AccessFormatter or self._fmt != _ACCESS_FORMAT:
            return None
        if type(self._style) is not logging.PercentStyle:
            return None
        level_name = self.color_level_name("INFO", logging.INFO) if self.use_colors else "INFO"
        return f"{level_name}:{' ' * (_LEVEL_PREFIX_WIDTH - len('INFO'))}"

    @cached_property
    def _status_texts(self) -> dict[int, str]:
        return {}

    def get_status_code(self, status_code: int) -> str:
        """``"200 OK"``; an unknown code keeps a trailing space where the phrase would be."""
        try:
            phrase = http.HTTPStatus(status_code).phrase
        except ValueError:
            phrase = ""
        text = f"{status_code} {phrase}"
        if not self.use_colors:
            return text
        colour = self.status_code_colours.get(status_code // 100)
        return colour(text) if colour is not None else text

    def format_access(
        self, client_addr: str, method: str, full_path: str, http_version: str, status_code: int
    ) -> str | None:
        """The line :meth:`format` gives an access record with these args, built without a record.

        For servers that write access lines in batches. Returns None when the output
        could depend on more than these args (a subclass, another format string or
        style): then the caller must log through :mod:`logging` as usual.
        """
        prefix = self._line_prefix
        if prefix is None:
            return None
        request_line = f"{method} {full_path} HTTP/{http_version}"
        status_texts = self._status_texts
        status = status_texts.get(status_code)
        if status is None:
            status = status_texts[status_code] = self.get_status_code(status_code)
        if self.use_colors:
            return f'{prefix} {client_addr} - "{style(request_line, bold=True)}" {status}'
        return f'{prefix} {client_addr} - "{request_line}" {status}'

    def formatMessage(self, record: logging.LogRecord) -> str:
        record = copy(record)
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client_addr, method, full_path, http_version, status_code = args
            request_line = f"{method} {full_path} HTTP/{http_version}"
            if self.use_colors:
                request_line = style(request_line, bold=True)
            record.client_addr = client_addr
            record.request_line = request_line
            record.status_code = self.get_status_code(int(status_code))  # type: ignore[call-overload]
        else:
            # Someone logged to uvicorn.access in their own words: show those words.
            record.client_addr = "-"
            record.request_line = record.getMessage()
            record.status_code = "-"
        return super().formatMessage(record)


if TYPE_CHECKING:
    # The HTTP protocols batch the lines of any formatter with this method (their contract).
    _access_formatter_fits: type[AccessLineFormatter] = AccessFormatter

#: The attributes of every ``uvicorn.access`` record: ``client`` ("host:port"), ``method``,
#: ``path`` (as sent, undecoded), ``query``, ``http_version``, ``status``, ``bytes_sent``
#: (response body bytes) and ``duration`` (seconds) — None on a line written as the head
#: goes out — and the request's ``user_agent`` and ``referer`` (None without).
ACCESS_FIELDS = (
    "client",
    "method",
    "path",
    "query",
    "http_version",
    "status",
    "bytes_sent",
    "duration",
    "user_agent",
    "referer",
)


class JSONFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``.

    Access records add :data:`ACCESS_FIELDS`; a record with an exception adds
    ``exception`` (the formatted traceback). ``--log-format json`` puts it on
    uvicorn's loggers; ``fmt``, ``style`` and ``use_colors`` are accepted and ignored.
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        use_colors: bool | None = None,
    ) -> None:
        super().__init__(fmt=None, datefmt=datefmt)

    def format(self, record: logging.LogRecord) -> str:
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, Any] = {
            "time": f"{moment}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if "status" in record.__dict__:  # an access record
            for name in ACCESS_FIELDS:
                entry[name] = record.__dict__.get(name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


# ---------------------------------------------------------------- applying a log_config

LogConfig = dict[str, Any] | str | os.PathLike[str] | configparser.RawConfigParser | IO[Any] | None


class LogConfigError(StartupError, ValueError):
    """A ``log_config`` that cannot be read or applied (a ``ValueError``, as ``dictConfig`` raises)."""


class LogConfigNeedsPyYAML(MissingDependencyError):
    """A ``.yaml`` / ``.yml`` ``log_config`` without PyYAML installed (an ``ImportError``, as upstream)."""


def apply_log_config(
    log_config: LogConfig,
    use_colors: bool | None,
    *,
    open_file: Callable[[str], IO[Any]] = open,
) -> None:
    """Configure :mod:`logging` from ``log_config`` (what ``Config(log_config=...)`` accepts), as upstream.

    - a dict goes to ``dictConfig`` as it is (its ``disable_existing_loggers``
      defaults to true, as ``dictConfig``'s does); a bool ``use_colors`` is first
      written into its ``default`` and ``access`` formatters, in the caller's dict
      as upstream does, except that :data:`LOGGING_CONFIG` itself is copied, not
      changed, so one server's choice does not stick to the next;
    - a ``.json`` / ``.yaml`` / ``.yml`` path is read and given to ``dictConfig``;
    - any other path, a ``RawConfigParser`` or an open file goes to ``fileConfig``,
      keeping loggers that already exist;
    - ``None`` leaves logging alone.

    Raises :class:`LogConfigError` (one line naming ``--log-config`` and the
    cause) or :class:`LogConfigNeedsPyYAML`. ``open_file`` opens paths
    (``Config`` passes its own ``open``).
    """
    logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")
    if log_config is None:
        return
    if isinstance(log_config, os.PathLike):
        log_config = os.fspath(log_config)

    if isinstance(log_config, dict):
        _apply(log_config, lambda: logging.config.dictConfig(_with_colours(log_config, use_colors)))
    elif isinstance(log_config, str) and log_config.endswith(".json"):
        _apply(log_config, lambda: logging.config.dictConfig(_read_json(log_config, open_file)))
    elif isinstance(log_config, str) and log_config.endswith((".yaml", ".yml")):
        _apply(log_config, lambda: logging.config.dictConfig(_read_yaml(log_config, open_file)))
    else:
        # fileConfig would otherwise disable every logger created before this call,
        # including the app's own.
        _apply(log_config, lambda: logging.config.fileConfig(log_config, disable_existing_loggers=False))


def _apply(log_config: object, configure: Callable[[], None]) -> None:
    try:
        configure()
    except StartupError:
        raise
    except Exception as exc:
        # A bad config is a user mistake; logging itself may be half-configured now
        # (uvicorn._startup.report_startup_error copes with that).
        raise LogConfigError(
            f"Invalid value for 'log_config' (--log-config): {_describe(log_config)}: {_one_line(exc)}"
        ) from exc


def _with_colours(config: dict[str, Any], use_colors: bool | None) -> dict[str, Any]:
    """``config`` with ``use_colors`` set on its ``default`` and ``access`` formatters (those it has)."""
    if not isinstance(use_colors, bool):
        return config
    if config is LOGGING_CONFIG:
        formatters = config["formatters"]
        config = {**config, "formatters": {name: dict(f) for name, f in formatters.items()}}
    formatters = config.get("formatters")
    if isinstance(formatters, dict):
        for name in ("default", "access"):
            if isinstance(formatters.get(name), dict):
                formatters[name]["use_colors"] = use_colors
    return config


def _read_json(path: str, open_file: Callable[[str], IO[Any]]) -> dict[str, Any]:
    with open_file(path) as file:
        loaded: dict[str, Any] = json.load(file)
    return loaded


def _read_yaml(path: str, open_file: Callable[[str], IO[Any]]) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        # "Install the PyYAML package or uvicorn[standard]" is upstream's wording, which programs may match.
        raise LogConfigNeedsPyYAML(
            f"Invalid value for 'log_config' (--log-config): {path!r} is a YAML file. Install the PyYAML "
            "package or uvicorn[standard] to read it (pip install PyYAML), or use a .json or .ini config.",
            name="yaml",
        ) from None
    with open_file(path) as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


def _describe(log_config: object) -> str:
    if isinstance(log_config, str):
        return repr(log_config)
    if isinstance(log_config, dict):
        return "the dict given"
    return f"the {type(log_config).__name__} given"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        # fileConfig reports a missing section or option as a bare KeyError('formatters').
        return f"missing section or entry {exc}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    # dictConfig wraps the real cause ("Unable to configure handler 'x'"): show both.
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f": {' '.join(str(cause).split())}"
    return text
