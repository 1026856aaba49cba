"""Collect what a server logs while an example runs, instead of printing it.

Thousands of examples each log a warning or two (every refused request does);
printed, they would slow the run and bury a real failure. The records are kept,
formatted (so a record that cannot be formatted fails the example too), and the
test asserts that none is an error.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

__all__ = ["captured_logs"]

_LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records.append((record.levelno, message))


@contextlib.contextmanager
def captured_logs() -> Iterator[list[tuple[int, str]]]:
    """For the duration of the block, the uvicorn loggers' records go to the returned list only."""
    collector = _Collector()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers, logger.propagate))
        logger.handlers = [collector]
        logger.propagate = False
    try:
        yield collector.records
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


def errors(records: list[tuple[int, str]]) -> list[str]:
    """The messages logged at ERROR or above."""
    return [message for level, message in records if level >= logging.ERROR]
