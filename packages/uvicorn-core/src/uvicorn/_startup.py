"""How a process that cannot start serving stops: one log line, exit code 3."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

__all__ = ["STARTUP_FAILURE", "startup_failure"]

#: Exit code of a process that could not start serving (bad option, app, bind, TLS, lifespan).
#: Supervisors rely on it to tell "will never boot" apart from a crash at run time.
STARTUP_FAILURE = 3

logger = logging.getLogger("uvicorn.error")


def startup_failure(message: str, *args: object) -> NoReturn:
    """Log ``message % args`` as one error line on ``uvicorn.error`` and exit with ``STARTUP_FAILURE``.

    For mistakes in what the user gave us: no traceback, the line says what to fix.
    """
    logger.error(message, *args)
    sys.exit(STARTUP_FAILURE)
