"""Worker recycling with real processes: memory limit, lifetime, crash-loop backoff, process titles."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn
from tests.processes import SAFETY_TIMEOUT, wait_until_exited

STARTED = "Application startup complete"


def start_workers(launch: Launch, *options: str, workers: int = 2) -> Uvicorn:
    server = launch("pid_app:app", "--port", "0", "--workers", str(workers), "--no-access-log", *options)
    server.log.wait_for(STARTED, count=workers)
    return server


class SteadyLoad:
    """Requests one after another from a thread, each on a new connection and never retried."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answered: list[int] = []  # the process id of each answer
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                with self._changed:
                    if response.status_code == 200:
                        self.answered.append(int(response.text))
                    else:
                        self.failures.append(f"status {response.status_code}")
                    self._changed.notify_all()

    def wait_answers(self, count: int) -> None:
        """Until ``count`` answers have come (a safety timeout bounds it)."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.answered) >= count, SAFETY_TIMEOUT)


@contextmanager
def steady_load(server: Uvicorn) -> Iterator[SteadyLoad]:
    load = SteadyLoad(server.url)
    load._thread.start()
    try:
        yield load
    finally:
        load._stop.set()
        load._thread.join()


def test_a_worker_past_the_memory_limit_is_replaced_without_a_failed_request(launch: Launch) -> None:
    server = start_workers(launch, "--limit-max-memory", "150")
    with steady_load(server) as load:
        grown = int(httpx.get(server.url + "/grow/200").text)
        server.log.wait_for(r"Memory limit of 150 MiB exceeded \(\d+ MiB resident\)\. Terminating process\.")
        server.log.wait_for(rf"Child process \[{grown}\] died")
        wait_until_exited(grown)
        server.log.wait_for(STARTED, count=3)  # its replacement serves
        load.wait_answers(len(load.answered) + 20)  # and the load goes on
    assert load.failures == []
    workers = server.worker_pids()
    assert grown not in workers and len(workers) == 2
    assert len(server.log.matches("Memory limit")) == 1  # the other worker stayed under it


def test_workers_are_recycled_after_their_lifetime_without_a_failed_request(launch: Launch) -> None:
    server = start_workers(launch, "--max-worker-lifetime", "1", "--max-worker-lifetime-jitter", "1")
    first = server.worker_pids()
    with steady_load(server) as load:
        server.log.wait_for(r"Maximum lifetime of ([\d.]+) seconds reached", count=3)
        server.log.wait_for(STARTED, count=5)  # 3 replacements serve
        load.wait_answers(len(load.answered) + 20)
    assert load.failures == []
    assert set(load.answered) - set(first)  # the replacements answered too
    seen = [float(match.group(1)) for match in server.log.matches(r"Maximum lifetime of ([\d.]+) seconds")]
    assert all(1.0 <= lifetime <= 2.0 for lifetime in seen), seen


def test_a_worker_that_keeps_dying_at_startup_is_restarted_with_growing_delays(
    launch: Launch, project: Path
) -> None:
    (project / "crash_app.py").write_text("import os\nos._exit(7)  # dies while being imported\n")
    server = launch("crash_app:app", "--port", "0", "--workers", "2")
    pattern = (
        r"Child process \[(\d+)\] died before serving \(exit code 7, (\d+) times in a row\); "
        r"starting a new one in ([\d.]+) seconds\."
    )
    # The first early death of a slot is replaced at once; the following ones wait longer each time.
    server.log.wait_for(pattern, count=6)  # 3 delays for each of the 2 worker slots
    delays: dict[int, list[float]] = {}
    for match in server.log.matches(pattern):
        delays.setdefault(int(match.group(2)), []).append(float(match.group(3)))
    assert delays[2] == [0.5, 0.5]
    assert delays[3] == [1.0, 1.0]
    assert delays[4] == [2.0, 2.0]
    # It never stopped: a crash loop is not a configuration error (exit code 3) but keeps being retried.
    assert server.process.poll() is None


def test_process_titles(launch: Launch) -> None:
    pytest.importorskip("setproctitle")
    server = start_workers(launch)

    def title(pid: int) -> str:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()

    assert title(server.pid) == "uvicorn: master"
    titles = sorted(title(pid) for pid in server.worker_pids())
    assert titles == ["uvicorn: worker 1", "uvicorn: worker 2"]
