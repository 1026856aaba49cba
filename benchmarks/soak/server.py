"""The server under soak: the real ``uvicorn`` command in a child process, and what /proc says of it.

The child inherits this process's raised ``RLIMIT_NOFILE`` (see
:func:`raise_open_file_limit`); its log goes to a pipe that a thread drains,
keeping the warnings and errors for the report.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["SoakServer", "raise_open_file_limit"]

REPO_ROOT = Path(__file__).resolve().parents[2]
UVICORN = Path(sys.executable).with_name("uvicorn")
_RUNNING_ON = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class SoakServer:
    """``uvicorn benchmarks.soak.app:app`` on 127.0.0.1, a port of its own choosing."""

    def __init__(self, options: list[str]) -> None:
        command = [str(UVICORN), "benchmarks.soak.app:app", "--host", "127.0.0.1", "--port", "0", *options]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.problems: list[str] = []  # WARNING, ERROR and traceback lines from its log
        self._port: int | None = None
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if self._port is None and (match := _RUNNING_ON.search(line)):
                self._port = int(match.group(1))
                self._listening.set()
            elif line.startswith(("WARNING", "ERROR", "CRITICAL", "Traceback")) and len(self.problems) < 50:
                self.problems.append(line.rstrip())
        self._listening.set()  # it exited: never leave the caller waiting

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_listening(self, timeout: float = 60.0) -> int:
        """The port, once the server listens."""
        if not self._listening.wait(timeout) or self._port is None:
            self.stop()
            raise RuntimeError("the server did not start: " + "; ".join(self.problems))
        return self._port

    def rss_kib(self) -> int:
        """Resident set size, from /proc."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a graceful shutdown), then wait; SIGKILL the group if it hangs. The exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout)
                self.problems.append(f"did not stop within {timeout}s of SIGTERM: killed")
        self._reader.join(timeout)
        return self.process.returncode
