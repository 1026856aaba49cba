"""The numbers one server process keeps for ``--admin-port``, as plain Python values.

:class:`ServerMetrics` is the ``ProtocolObserver`` the protocols report to
(``uvicorn.protocols.contract``): a few integer additions per request, no locks, no
prometheus-client objects on the request path. :meth:`ServerMetrics.snapshot`
turns the counts into a plain, JSON-ready :data:`Snapshot`, which
:mod:`uvicorn._metrics_export` merges over processes and exposes for Prometheus.
Open connections are not counted per event: a snapshot counts the server's
connection set by protocol.
"""

from __future__ import annotations

import asyncio
import bisect
import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

__all__ = [
    "CONNECTION_KINDS",
    "DURATION_BUCKETS",
    "REJECTION_REASONS",
    "RESTART_CAUSES",
    "ServerMetrics",
    "Snapshot",
    "connection_kind",
    "measure_loop_lag",
]

#: A process's numbers at one moment (see :meth:`ServerMetrics.snapshot` for the keys).
Snapshot = dict[str, Any]

#: Upper bounds (seconds) of the request duration histogram; prometheus-client's defaults.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
#: The ``protocol`` label of open connections.
CONNECTION_KINDS = ("http1", "http2", "websocket")
#: The ``reason`` label of requests the server answered itself (uvicorn.protocols.http.exchange).
REJECTION_REASONS = (
    "limit_concurrency",
    "limit_request_line",
    "limit_request_head",
    "timeout_request_head",
    "invalid_request",
)
#: The ``cause`` label of worker restarts (docs/metrics.md says what each means).
RESTART_CAUSES = (
    "crash",
    "healthcheck",
    "reload",
    "limit_max_requests",
    "limit_max_memory",
    "max_worker_lifetime",
    "exit",
)

# Methods counted under their own name; any other is "other" (clients choose methods freely).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_STATUS_CLASSES = {status: f"{status // 100}xx" for status in range(100, 1000)}


def connection_kind(connection_class: type) -> str:
    """The ``protocol`` label of a connection object's class.

    A class may say with a ``connection_kind`` attribute; otherwise classes built on
    uvicorn's WebSocket protocols are ``"websocket"``, on its HTTP/2 ones ``"http2"``,
    and every other ``"http1"``.
    """
    kind = getattr(connection_class, "connection_kind", None)
    if isinstance(kind, str):
        return kind
    for cls in connection_class.__mro__:  # h2_impl's class is an http2.connection one, for instance
        module = cls.__module__
        if module.startswith("uvicorn.protocols.websockets"):
            return "websocket"
        if module.startswith("uvicorn.protocols.http2"):
            return "http2"
    return "http1"


class ServerMetrics:
    """What the protocols of one server process report (a ``ProtocolObserver``), counted."""

    def __init__(self) -> None:
        # (method, status) -> responses; None: no response. Methods outside _METHODS count as "other".
        self.requests: dict[tuple[str, int | None], int] = {}
        self.duration_counts = [0] * (len(DURATION_BUCKETS) + 1)  # per bucket, not cumulative; last: +Inf
        self.duration_sum = 0.0
        self.in_flight = 0
        self.http_received = 0
        self.http_sent = 0
        self.websocket_messages = [0, 0]  # sent, received
        self.websocket_bytes = [0, 0]
        self.rejections: dict[str, int] = {}
        #: Seconds the event loop was late to wake at the last measure (measure_loop_lag).
        self.loop_lag = 0.0
        #: Why this process is retiring itself, once it is (a ``RESTART_CAUSES`` value).
        self.retiring_because: str | None = None

    # ------------------------------------------------------------ ProtocolObserver

    def request_started(self) -> None:
        self.in_flight += 1

    def request_finished(
        self, method: str, status: int | None, duration: float, received: int, sent: int
    ) -> None:
        self.in_flight -= 1
        key = (method if method in _METHODS else "other", status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.duration_counts[bisect.bisect_left(DURATION_BUCKETS, duration)] += 1
        self.duration_sum += duration
        self.http_received += received
        self.http_sent += sent

    def rejected(self, reason: str) -> None:
        self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def websocket_message(self, received: bool, size: int) -> None:
        self.websocket_messages[received] += 1
        self.websocket_bytes[received] += size

    # ------------------------------------------------------------ reading

    def snapshot(self, connections: Iterable[object] = ()) -> Snapshot:
        """The numbers now, as plain JSON-ready values; ``connections``: the server's open connections."""
        kinds = dict.fromkeys(CONNECTION_KINDS, 0)
        # list(): a copy made at once, as the loop's thread may change the set meanwhile.
        for cls, count in Counter(type(connection) for connection in list(connections)).items():
            kind = connection_kind(cls)
            kinds[kind] = kinds.get(kind, 0) + count
        return {
            "pid": os.getpid(),
            "requests": [
                [method, _STATUS_CLASSES.get(status, "none"), count]  # type: ignore[arg-type]
                for (method, status), count in list(self.requests.items())
            ],
            "duration_counts": list(self.duration_counts),
            "duration_sum": self.duration_sum,
            "in_flight": self.in_flight,
            "connections": kinds,
            "received_bytes": {"http": self.http_received, "websocket": self.websocket_bytes[1]},
            "sent_bytes": {"http": self.http_sent, "websocket": self.websocket_bytes[0]},
            "websocket_messages": {
                "sent": self.websocket_messages[0],
                "received": self.websocket_messages[1],
            },
            "rejected": dict(self.rejections),
            "loop_lag": self.loop_lag,
            "retiring_because": self.retiring_because,
        }


async def measure_loop_lag(metrics: ServerMetrics, interval: float, on_measure: Any = None) -> None:
    """Forever: sleep ``interval`` seconds and record how late the loop woke (then call ``on_measure``)."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(interval)
        metrics.loop_lag = max(0.0, loop.time() - asked - interval)
        if on_measure is not None:
            on_measure()
