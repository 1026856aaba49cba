"""Run a real gunicorn arbiter in a child process and follow its log, line by line.

    with run_gunicorn("tests.worker.apps:app", "-k", WORKER) as arbiter:
        response = httpx.get(arbiter.url + "/")
        arbiter.process.send_signal(signal.SIGTERM)
        arbiter.wait_for(r"Shutting down: Master")

gunicorn binds 127.0.0.1 port 0 and logs the port it got; the helper returns
once the first worker has logged "Application startup complete". All waiting
is done on log lines (or on the process's exit), with a generous deadline as a
safety net only. On leaving the block the arbiter and every worker it logged
are ended, whatever the test did.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from gunicorn.config import KNOWN_SETTINGS

__all__ = ["DEADLINE", "GunicornArbiter", "run_gunicorn", "start_gunicorn"]

#: Upper bound for anything we wait for: a safety net against a hang, never a way to synchronise.
DEADLINE = 60.0

_REPO_ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"Listening at: (?:https?://)?(\S+?) \(\d+\)")
_BOOTING = re.compile(r"Booting worker with pid: (\d+)")
# gunicorn 24+ opens a control socket in ~/.gunicorn; concurrent arbiters would share it.
_NO_CONTROL_SOCKET = (
    ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    for variable in ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "GUNICORN_CMD_ARGS"):
        env.pop(variable, None)
    return env


class GunicornArbiter:
    """A gunicorn master process; its stdout and stderr are read into :attr:`lines` as they come."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *_NO_CONTROL_SOCKET, *args],
            cwd=_REPO_ROOT,
            env=_child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything logged so far."""
        with self._changed:
            return "\n".join(self.lines)

    def mark(self) -> int:
        """A position in the log: ``wait_for(..., after=mark)`` looks only at later lines."""
        with self._changed:
            return len(self.lines)

    def wait_for(self, pattern: str, *, after: int = 0, deadline: float = DEADLINE) -> re.Match[str]:
        """The first line (from ``after`` on) matching ``pattern``, waiting for it to be logged.

        Fails, showing the log, if the output ends first or ``deadline`` seconds pass.
        """
        found = self._search(pattern, after, deadline)
        if found is None:
            state = "ended" if self._ended else f"was still running after {deadline} s"
            raise AssertionError(f"gunicorn {state} without logging {pattern!r}:\n{self.output}")
        return found

    def logs_within(self, pattern: str, seconds: float, *, after: int = 0) -> bool:
        """Whether a line matching ``pattern`` is logged in the next ``seconds`` (to show it is not)."""
        return self._search(pattern, after, seconds) is not None

    def _search(self, pattern: str, after: int, seconds: float) -> re.Match[str] | None:
        regex = re.compile(pattern)
        give_up = time.monotonic() + seconds
        with self._changed:
            position = after
            while True:
                for line in self.lines[position:]:
                    match = regex.search(line)
                    if match:
                        return match
                position = max(position, len(self.lines))
                remaining = give_up - time.monotonic()
                if self._ended or remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def wait_for_exit(self) -> int:
        """The arbiter's exit code, once it has exited and its output is read to the end."""
        code = self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)
        return code

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
        with self._changed:
            return [int(m.group(1)) for line in self.lines if (m := _BOOTING.search(line))]

    def wait_for_booted_worker(self, *, after: int = 0) -> int:
        """Wait for the next worker (booted after ``after``) to complete its startup; its pid."""
        pid = int(self.wait_for(_BOOTING.pattern, after=after).group(1))
        self.wait_for(rf"\[{pid}\] \[INFO\] Application startup complete\.", after=after)
        return pid

    # ------------------------------------------------------------ cleanup

    def stop(self) -> None:
        """End the arbiter and any worker it logged, however the test left them."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # quick shutdown: no graceful wait
            try:
                self.process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.worker_pids():
            _kill_if_our_worker(pid)
        self._reader.join(timeout=DEADLINE)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _kill_if_our_worker(pid: int) -> None:
    """SIGKILL ``pid`` if it still runs gunicorn (an orphaned worker), not a process that reused the id."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            command = file.read()
    except OSError:
        return  # gone
    if b"gunicorn" in command:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


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
