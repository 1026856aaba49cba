"""The worker classes under test, by the import string gunicorn's ``-k`` takes."""

from __future__ import annotations

import pytest

WORKER_CLASSES = ["uvicorn_worker.UvicornWorker", "uvicorn_worker.UvicornH11Worker"]


@pytest.fixture(params=WORKER_CLASSES, ids=["UvicornWorker", "UvicornH11Worker"])
def worker_class(request: pytest.FixtureRequest) -> str:
    """Each worker class in turn: their event loops (uvloop / asyncio) handle signals differently."""
    return str(request.param)
