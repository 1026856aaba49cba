"""What ``--admin-port`` adds to a serving process and to the ``--workers`` supervisor.

:class:`ServerTelemetry`, in every process that serves: a
:class:`~uvicorn._metrics.ServerMetrics` as the protocols' observer, the event-loop
lag measured a few times a second, and either the admin listener (a single server,
or the one process of ``--reload``) or, in a ``--workers`` worker, its snapshot
published for the supervisor. :class:`SupervisorTelemetry`: the snapshot directory,
the admin listener answering for all workers, and the count of worker restarts.
Without ``--admin-port`` none of this exists: the protocols' observer stays None.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from uvicorn._admin import AdminServer
from uvicorn._metrics import RESTART_CAUSES, ServerMetrics, Snapshot, measure_loop_lag
from uvicorn._metrics_export import SnapshotDirectory
from uvicorn._startup import startup_failure

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import Server

__all__ = ["DIRECTORY_ATTRIBUTE", "ServerTelemetry", "SupervisorTelemetry"]

logger = logging.getLogger("uvicorn.error")

#: The ``Config`` attribute naming the supervisor's snapshot directory; the supervisor
#: sets it on the config its workers are started with (they publish there, no listener).
DIRECTORY_ATTRIBUTE = "_metrics_directory"
# Seconds between two measures of the event-loop lag (and publications of a worker's snapshot).
_MEASURE_INTERVAL = 0.25


def _start_admin(admin: AdminServer) -> None:
    try:
        admin.start()
    except OSError as exc:
        startup_failure(
            "Could not listen on the admin port (--admin-port) %s:%d: %s",
            admin.host,
            admin.requested_port,
            exc,
        )
    logger.info("Serving /metrics, /livez and /readyz on %s", admin.url)


class ServerTelemetry:
    """Metrics and health of one serving process (see the module docstring)."""

    @classmethod
    def start(cls, server: Server) -> ServerTelemetry | None:
        """Begin for ``server`` (in its event loop), or None without ``--admin-port``.

        Exits with ``STARTUP_FAILURE`` when the admin port cannot be bound.
        """
        config = server.config
        directory = getattr(config, DIRECTORY_ATTRIBUTE, None)
        if directory is None and getattr(config, "admin_port", None) is None:
            return None
        telemetry = cls(server, directory)
        if telemetry.admin is not None:
            _start_admin(telemetry.admin)
        telemetry._task = asyncio.get_running_loop().create_task(
            measure_loop_lag(telemetry.metrics, _MEASURE_INTERVAL, telemetry.publish)
        )
        return telemetry

    def __init__(self, server: Server, directory: str | None) -> None:
        self.server = server
        self.metrics = ServerMetrics()
        server.server_state.observer = self.metrics
        self.directory = SnapshotDirectory(directory) if directory is not None else None
        self.admin: AdminServer | None = None
        if directory is None:
            config = server.config
            self.admin = AdminServer(config.admin_host, config.admin_port or 0, self.snapshot, self.ready)
        self._task: asyncio.Task[None] | None = None

    def snapshot(self) -> Snapshot:
        """This process's numbers now."""
        return {**self.metrics.snapshot(self.server.server_state.connections), "workers": 1}

    def ready(self) -> bool:
        """Serving, and not shutting down."""
        return self.server.started and not self.server.should_exit and not self.server.draining

    def publish(self) -> None:
        """A worker: write the snapshot for the supervisor."""
        if self.directory is not None:
            self.directory.publish(self.snapshot())

    def stop(self) -> None:
        """The server has stopped: publish the last numbers (and why it stopped), close the listener."""
        if self._task is not None:
            self._task.cancel()
        self.metrics.retiring_because = self._retiring_because()
        self.publish()
        if self.admin is not None:
            self.admin.stop()

    def _retiring_because(self) -> str | None:
        server = self.server
        limit = server.limit_max_requests
        if limit is not None and server.server_state.total_requests >= limit:
            return "limit_max_requests"
        return server._recycling.reached


class SupervisorTelemetry:
    """The ``--workers`` supervisor's side: the listener for all workers, their snapshots, restarts."""

    @classmethod
    def start(cls, config: Config, ready: Callable[[], bool]) -> SupervisorTelemetry | None:
        """Begin before any worker starts (they inherit the directory); None without ``--admin-port``."""
        if getattr(config, "admin_port", None) is None:
            return None
        telemetry = cls(config, ready)
        _start_admin(telemetry.admin)
        return telemetry

    def __init__(self, config: Config, ready: Callable[[], bool]) -> None:
        self.config = config
        self.path = tempfile.mkdtemp(prefix="uvicorn-metrics-")
        setattr(config, DIRECTORY_ATTRIBUTE, self.path)
        self.directory = SnapshotDirectory(self.path)
        self.restarts = dict.fromkeys(RESTART_CAUSES, 0)
        self.admin = AdminServer(config.admin_host, config.admin_port or 0, self.snapshot, ready)

    def snapshot(self) -> Snapshot:
        """Every worker's numbers, merged, with the supervisor's restart counts."""
        return self.directory.merged([{"worker_restarts": dict(self.restarts)}])

    def worker_exited(self, pid: int | None, cause: str | None) -> None:
        """A worker is gone: keep its counts; count a restart if ``cause`` (``"exit"``: as it said)."""
        last = self.directory.worker_gone(pid)
        if cause == "exit" and last is not None and last.get("retiring_because") in self.restarts:
            cause = last["retiring_because"]
        if cause is not None:
            self.restarts[cause] = self.restarts.get(cause, 0) + 1

    def stop(self) -> None:
        """The supervisor stops: close the listener, remove the directory."""
        self.admin.stop()
        with contextlib.suppress(AttributeError):
            delattr(self.config, DIRECTORY_ATTRIBUTE)
        shutil.rmtree(self.path, ignore_errors=True)
