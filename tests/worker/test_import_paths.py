"""Where the worker classes are imported from: ``uvicorn_worker``, and the deprecated ``uvicorn.workers``."""

from __future__ import annotations

import importlib
import sys

import pytest

import uvicorn
import uvicorn_worker
from uvicorn_worker import UvicornH11Worker, UvicornWorker


def test_uvicorn_worker_exports() -> None:
    assert uvicorn_worker.__all__ == ["UvicornH11Worker", "UvicornWorker"]
    assert uvicorn_worker.__version__ == uvicorn.__version__  # the packages are released together
    assert issubclass(UvicornH11Worker, UvicornWorker)
    assert UvicornWorker.CONFIG_KWARGS == {"loop": "auto", "http": "auto"}
    assert UvicornH11Worker.CONFIG_KWARGS == {"loop": "asyncio", "http": "h11"}


def test_old_path_warns_and_gives_the_same_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "uvicorn.workers", raising=False)
    with pytest.warns(DeprecationWarning, match=r"`uvicorn\.workers` module is deprecated.*uvicorn-worker"):
        workers = importlib.import_module("uvicorn.workers")
    assert workers.UvicornWorker is UvicornWorker
    assert workers.UvicornH11Worker is UvicornH11Worker
