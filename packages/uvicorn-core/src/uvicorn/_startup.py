"""How a server that cannot start says so: exceptions for programs, one line and exit code 3 for people.

``Config`` and ``Server`` raise :class:`StartupError` subclasses for mistakes in
what they were given; each subclass also derives from the exception type
upstream uvicorn raises in that case (``ImportError``, ``TypeError``,
``ValueError``...), so a program that catches upstream's exceptions keeps
working. ``uvicorn.run()``, the command line and the worker processes of the
supervisors turn a ``StartupError`` into one ``ERROR:`` line on
``uvicorn.error`` and exit with ``STARTUP_FAILURE`` (:func:`exit_on_startup_error`).
Where upstream itself logs and exits (an import string naming nothing, a
socket that cannot be bound), :func:`startup_failure` does the same.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import NoReturn

__all__ = [
    "STARTUP_FAILURE",
    "InvalidOptionError",
    "MissingDependencyError",
    "StartupError",
    "exit_on_startup_error",
    "report_startup_error",
    "startup_failure",
]

#: Exit code of a process that could not start serving (bad option, app, bind, TLS, lifespan).
#: Supervisors rely on it to tell "will never boot" apart from a crash at run time.
STARTUP_FAILURE = 3

logger = logging.getLogger("uvicorn.error")


class StartupError(Exception):
    """A mistake in the server's options or app found before serving; the message says what to fix."""

    def __str__(self) -> str:
        # KeyError and a few others quote their message; ours is a sentence for a person.
        return str(self.args[0]) if self.args else ""


class InvalidOptionError(StartupError, ValueError):
    """An option value that cannot work (a ``ValueError``, as upstream's own checks raise)."""


class MissingDependencyError(StartupError, ImportError):
    """An option needs a library that is not installed (an ``ImportError``, as upstream raises)."""


def startup_failure(message: str, *args: object) -> NoReturn:
    """Log ``message % args`` as one error line on ``uvicorn.error`` and exit with ``STARTUP_FAILURE``.

    For the cases where upstream exits itself (so programs see ``SystemExit`` there too).
    """
    report_startup_error(message % args if args else message)
    sys.exit(STARTUP_FAILURE)


def report_startup_error(message: str) -> None:
    """``message`` as one ``ERROR:`` line on ``uvicorn.error``, even when logging cannot show it.

    A log config that failed half-way may leave ``uvicorn.error`` without a
    handler, or disabled: then the line is written to stderr in the default format.
    """
    if not logger.disabled and logger.isEnabledFor(logging.ERROR) and _has_handler(logger):
        logger.error("%s", message)
        return
    from uvicorn.logging import DefaultFormatter

    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, "%s", (message,), None)
    sys.stderr.write(DefaultFormatter("%(levelprefix)s %(message)s").format(record) + "\n")
    sys.stderr.flush()


def _has_handler(start: logging.Logger) -> bool:
    """Whether a record logged on ``start`` reaches a handler that would emit an ERROR line."""
    current: logging.Logger | None = start
    while current is not None:
        if any(handler.level <= logging.ERROR for handler in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False


@contextlib.contextmanager
def exit_on_startup_error() -> Iterator[None]:
    """Turn a :class:`StartupError` raised inside into one error line and ``STARTUP_FAILURE``."""
    try:
        yield
    except StartupError as exc:
        report_startup_error(str(exc))
        sys.exit(STARTUP_FAILURE)
