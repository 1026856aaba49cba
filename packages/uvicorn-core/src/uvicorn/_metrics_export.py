"""Server metrics for Prometheus: snapshots merged over processes, exposed with prometheus-client.

Without ``--workers`` the admin listener exposes its own process's
:class:`~uvicorn._metrics.ServerMetrics`. With ``--workers``, each worker writes
its snapshot to a file of a directory the supervisor made
(:meth:`SnapshotDirectory.publish`: a few times a second when something changed,
and once more as it stops), and the supervisor merges the files of its workers.
When a worker is gone the supervisor folds its last counts into a running total
(counters and histograms; its gauges go): a scrape covers the whole server, and
no counter goes down when a worker is replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from uvicorn._metrics import (
    CONNECTION_KINDS,
    DURATION_BUCKETS,
    REJECTION_REASONS,
    RESTART_CAUSES,
    Snapshot,
)

__all__ = ["SnapshotCollector", "SnapshotDirectory", "empty_snapshot", "merge_snapshots"]

# Snapshot keys whose values are gauges: a process that is gone no longer counts.
_GAUGES = ("in_flight", "connections", "loop_lag")


def empty_snapshot() -> Snapshot:
    """A snapshot of nothing at all, with every known label present (at 0)."""
    return {
        "requests": [],
        "duration_counts": [0] * (len(DURATION_BUCKETS) + 1),
        "duration_sum": 0.0,
        "in_flight": 0,
        "connections": dict.fromkeys(CONNECTION_KINDS, 0),
        "received_bytes": {"http": 0, "websocket": 0},
        "sent_bytes": {"http": 0, "websocket": 0},
        "websocket_messages": {"sent": 0, "received": 0},
        "rejected": dict.fromkeys(REJECTION_REASONS, 0),
        "loop_lag": 0.0,
        "worker_restarts": dict.fromkeys(RESTART_CAUSES, 0),
        "workers": 0,
    }


def merge_snapshots(snapshots: Iterable[Snapshot]) -> Snapshot:
    """One snapshot for several processes: every count summed, the event-loop lag the largest."""
    merged = empty_snapshot()
    requests: dict[tuple[str, str], int] = {}
    for snapshot in snapshots:
        for method, status_class, count in snapshot.get("requests", ()):
            requests[(method, status_class)] = requests.get((method, status_class), 0) + count
        for index, count in enumerate(snapshot.get("duration_counts", ())):
            merged["duration_counts"][index] += count
        for key in ("duration_sum", "in_flight", "workers"):
            merged[key] += snapshot.get(key, 0)
        for key in (
            "connections",
            "received_bytes",
            "sent_bytes",
            "websocket_messages",
            "rejected",
            "worker_restarts",
        ):
            for label, count in snapshot.get(key, {}).items():
                merged[key][label] = merged[key].get(label, 0) + count
        merged["loop_lag"] = max(merged["loop_lag"], snapshot.get("loop_lag", 0.0))
    merged["requests"] = [[method, status_class, count] for (method, status_class), count in requests.items()]
    return merged


def _without_gauges(snapshot: Snapshot) -> Snapshot:
    kept = dict(snapshot)
    for key in _GAUGES:
        kept.pop(key, None)
    return kept


class SnapshotDirectory:
    """The snapshot files of a supervisor's workers: written by each worker, merged by the supervisor."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._last_written = ""
        # Supervisor side: the counts of workers that are gone, and a lock for the admin thread.
        self._gone = empty_snapshot()
        self._lock = threading.Lock()

    def _file(self, pid: int) -> str:
        return os.path.join(self.path, f"worker-{pid}.json")

    # ------------------------------------------------------------ worker side

    def publish(self, snapshot: Snapshot) -> None:
        """Write this process's snapshot (if it changed), atomically: a reader sees the old or the new."""
        text = json.dumps(snapshot)
        if text == self._last_written:
            return
        target = self._file(snapshot["pid"])
        temporary = target + ".tmp"
        try:
            with open(temporary, "w") as file:
                file.write(text)
            os.replace(temporary, target)
        except OSError:
            return  # the supervisor removed the directory: it is stopping
        self._last_written = text

    # ------------------------------------------------------------ supervisor side

    def worker_gone(self, pid: int | None) -> Snapshot | None:
        """Fold the last counts of a worker that exited into the total; return its last snapshot."""
        if pid is None:
            return None
        with self._lock:
            snapshot = self._read(self._file(pid))
            if snapshot is not None:
                self._gone = merge_snapshots([self._gone, _without_gauges(snapshot)])
                with contextlib.suppress(OSError):
                    os.remove(self._file(pid))
            return snapshot

    def merged(self, extra: Iterable[Snapshot] = ()) -> Snapshot:
        """Every live worker's snapshot, the workers gone and ``extra`` (the supervisor's own), merged."""
        with self._lock:
            return merge_snapshots([self._gone, *self._live(), *extra])

    def _live(self) -> Iterator[Snapshot]:
        try:
            names = os.listdir(self.path)
        except OSError:
            return
        for name in names:
            if name.startswith("worker-") and name.endswith(".json"):
                snapshot = self._read(os.path.join(self.path, name))
                if snapshot is not None:
                    yield snapshot

    @staticmethod
    def _read(path: str) -> Snapshot | None:
        try:
            with open(path) as file:
                loaded: Snapshot = json.load(file)
        except (OSError, ValueError):
            return None
        return loaded


class SnapshotCollector:
    """A prometheus-client collector of a :data:`Snapshot` source (docs/metrics.md lists the metrics)."""

    def __init__(self, source: Callable[[], Snapshot]) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        snapshot = merge_snapshots([self.source()])  # every label present
        requests = CounterMetricFamily(
            "uvicorn_http_requests",
            "HTTP responses, by request method and status class (none: the client left before one).",
            labels=["method", "status_class"],
        )
        for method, status_class, count in sorted(snapshot["requests"]):
            requests.add_metric([method, status_class], count)
        yield requests

        cumulative, buckets = 0, []
        for bound, count in zip([*DURATION_BUCKETS, float("inf")], snapshot["duration_counts"], strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        duration = HistogramMetricFamily(
            "uvicorn_http_request_duration_seconds",
            "Seconds from a complete request head to the end of its response.",
        )
        duration.add_metric([], buckets, snapshot["duration_sum"])
        yield duration

        yield GaugeMetricFamily(
            "uvicorn_http_requests_in_flight", "HTTP requests being answered.", value=snapshot["in_flight"]
        )
        yield _labelled(
            GaugeMetricFamily,
            "uvicorn_open_connections",
            "Open connections, by protocol.",
            "protocol",
            snapshot["connections"],
        )
        yield _labelled(
            CounterMetricFamily,
            "uvicorn_received_bytes",
            "Bytes of HTTP request bodies and WebSocket messages received.",
            "protocol",
            snapshot["received_bytes"],
        )
        yield _labelled(
            CounterMetricFamily,
            "uvicorn_sent_bytes",
            "Bytes of HTTP response bodies and WebSocket messages sent.",
            "protocol",
            snapshot["sent_bytes"],
        )
        yield _labelled(
            CounterMetricFamily,
            "uvicorn_rejected_requests",
            "Requests the server answered itself with an "
            "error (over a limit, invalid) and closed the connection.",
            "reason",
            snapshot["rejected"],
        )
        yield _labelled(
            CounterMetricFamily,
            "uvicorn_websocket_messages",
            "WebSocket messages.",
            "direction",
            snapshot["websocket_messages"],
        )
        yield _labelled(
            CounterMetricFamily,
            "uvicorn_worker_restarts",
            "Worker processes replaced, by cause.",
            "cause",
            snapshot["worker_restarts"],
        )
        yield GaugeMetricFamily("uvicorn_workers", "Worker processes serving.", value=snapshot["workers"])
        yield GaugeMetricFamily(
            "uvicorn_event_loop_lag_seconds",
            "How late the event loop last woke from a timer (the largest over the workers).",
            value=snapshot["loop_lag"],
        )


def _labelled(family: Any, name: str, documentation: str, label: str, values: dict[str, Any]) -> Any:
    metric = family(name, documentation, labels=[label])
    for value_label, value in sorted(values.items()):
        metric.add_metric([value_label], value)
    return metric
