"""A gunicorn configuration (``-c python:tests.worker.gunicorn_hooks``) whose hooks log that they ran."""

from __future__ import annotations

from typing import Any


def worker_int(worker: Any) -> None:
    worker.log.info("worker_int hook ran in %s", worker.pid)


def worker_abort(worker: Any) -> None:
    worker.log.info("worker_abort hook ran in %s", worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    server.log.info("worker_exit hook ran in %s", worker.pid)
