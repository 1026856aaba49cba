"""Deprecated home of the gunicorn worker classes: they live in ``uvicorn_worker`` now.

``gunicorn -k uvicorn.workers.UvicornWorker`` keeps working; the classes here
are the very ones of ``uvicorn_worker``, so ``isinstance`` checks and
subclasses behave the same through either path.
"""

from __future__ import annotations

import warnings

from uvicorn_worker import UvicornH11Worker, UvicornWorker

__all__ = ["UvicornH11Worker", "UvicornWorker"]

warnings.warn(
    "The `uvicorn.workers` module is deprecated. Please use `uvicorn-worker` package instead.\n"
    "Import the classes from `uvicorn_worker`, e.g. `gunicorn -k uvicorn_worker.UvicornWorker app:app`.",
    DeprecationWarning,
    stacklevel=2,
)
