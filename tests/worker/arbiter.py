"""Run a real gunicorn arbiter in a child process and follow its log, line by line.

    with run_gunicorn("tests.worker.apps:app", "-k", WORKER) as arbiter:
        response = httpx.get(arbiter.url + "/")
        arbiter.process.send_signal(signal.SIGTERM)
        arbiter.wait_for(r"Shutting down: Master")

gunicorn binds 127.0.0.1 port 0 and logs the port it got; the helper returns
once the first worker has logged "Application startup complete". All waiting
is done on log lines (or on the process's exit), with a generous deadline as a
safety net only. The arbiter runs in its own session: on leaving the block it
and every worker it started are ended, whatever the test did.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

from gunicorn.config import KNOWN_SETTINGS

from tests.processes import REPO_ROOT, SAFETY_TIMEOUT, ServerProcess

__all__ = ["DEADLINE", "GunicornArbiter", "run_gunicorn", "start_gunicorn"]

#: Upper bound for anything we wait for: a safety net against a hang, never a way to synchronise.
DEADLINE = SAFETY_TIMEOUT

_LISTENING = re.compile(r"Listening at: (?:https?://)?(\S+?) \(\d+\)")
_BOOTING = re.compile(r"Booting worker with pid: (\d+)")
# gunicorn 24+ opens a control socket in ~/.gunicorn; concurrent arbiters would share it.
_NO_CONTROL_SOCKET = (
    ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []
)


class GunicornArbiter:
    """A gunicorn master process in its own session; its stdout and stderr are read as they come."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        command = [sys.executable, "-m", "gunicorn", *_NO_CONTROL_SOCKET, *args]
        self._child = ServerProcess(command, cwd=REPO_ROOT, merge_output=True)
        self.process = self._child.process
        self._log = self._child.log

    @property
    def lines(self) -> list[str]:
        return self._log.lines

    @property
    def output(self) -> str:
        """Everything logged so far."""
        return self._log.text

    def mark(self) -> int:
        """A position in the log: ``wait_for(..., after=mark)`` looks only at later lines."""
        return self._log.mark()

    def wait_for(self, pattern: str, *, after: int = 0, deadline: float = DEADLINE) -> re.Match[str]:
        """The first line (from ``after`` on) matching ``pattern``, waiting for it to be logged.

        Fails, showing the log, if the output ends first or ``deadline`` seconds pass.
        """
        found = self._log.find(pattern, after=after, seconds=deadline)
        if found is None:
            state = "ended" if self._log.ended else f"was still running after {deadline} s"
            raise AssertionError(f"gunicorn {state} without logging {pattern!r}:\n{self.output}")
        return found[1]

    def logs_within(self, pattern: str, seconds: float, *, after: int = 0) -> bool:
        """Whether a line matching ``pattern`` is logged in the next ``seconds`` (to show it is not)."""
        return self._log.find(pattern, after=after, seconds=seconds) is not None

    def wait_for_exit(self) -> int:
        """The arbiter's exit code, once it has exited and its output is read to the end."""
        return self._child.wait_exit()

    # ------------------------------------------------------------ what the log tells

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>`` or ``unix:<path>``, as gunicorn reports the socket it bound."""
        return self.wait_for(_LISTENING.pattern).group(1)

    @property
    def url(self) -> str:
        """The base URL of a TCP listener (``https`` when gunicorn has a certificate)."""
        scheme = "https" if "--certfile" in self.args else "http"
        return f"{scheme}://{self.address}"

    def worker_pids(self) -> list[int]:
        """Every worker pid gunicorn has logged booting, oldest first."""
        return [int(match.group(1)) for match in self._log.matches(_BOOTING)]

    def wait_for_booted_worker(self, *, after: int = 0) -> int:
        """Wait for the next worker (booted after ``after``) to complete its startup; its pid."""
        pid = int(self.wait_for(_BOOTING.pattern, after=after).group(1))
        self.wait_for(rf"\[{pid}\] \[INFO\] Application startup complete\.", after=after)
        return pid

    def wait_for_started_workers(self, count: int) -> list[int]:
        """Wait until ``count`` workers have completed their startup; every worker pid booted."""
        self._log.wait_for(r"\[INFO\] Application startup complete\.", count=count)
        return self.worker_pids()

    # ------------------------------------------------------------ cleanup

    def stop(self) -> None:
        """End the arbiter, then whatever of its session is left (workers it did not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # quick shutdown: no graceful wait
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=DEADLINE)
        self._child.stop()


def start_gunicorn(app: str, *options: str, bind: str = "127.0.0.1:0") -> GunicornArbiter:
    """Start an arbiter serving ``app`` with ``options``; don't wait for anything."""
    return GunicornArbiter(["--bind", bind, "--workers", "1", *options, app])


@contextlib.contextmanager
def run_gunicorn(app: str, *options: str, bind: str = "127.0.0.1:0") -> Iterator[GunicornArbiter]:
    """An arbiter whose first worker has started the application; stopped when the block ends."""
    arbiter = start_gunicorn(app, *options, bind=bind)
    try:
        arbiter.wait_for_booted_worker()
        yield arbiter
    finally:
        arbiter.stop()
