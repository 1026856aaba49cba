"""Gunicorn worker classes running ASGI applications on uvicorn.

    gunicorn -k uvicorn_worker.UvicornWorker module:app

``UvicornWorker`` picks the fastest parts installed (uvloop, httptools);
``UvicornH11Worker`` sticks to pure-Python ones (asyncio, h11).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from uvicorn_worker._workers import UvicornH11Worker, UvicornWorker

__all__ = ["UvicornH11Worker", "UvicornWorker"]

try:
    __version__ = version("uvicorn-worker")
except PackageNotFoundError:  # a source tree that is not installed: the versions move together
    import uvicorn

    __version__ = uvicorn.__version__
