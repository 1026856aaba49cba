"""What the smoke scripts share: a server child process, plain HTTP requests, checks of what is installed.

Smoke scripts run with the python of a fresh environment that holds only what
the scenario installed, so this module uses the standard library alone.
Every wait has a bound: a smoke test fails, it never hangs.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

HERE = Path(__file__).resolve().parent
#: Bounds for things that should take well under a second; generous for a loaded CI machine.
STARTUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0

OURS = (
    "uvicorn",
    "uvicorn-core",
    "uvicorn-protocols",
    "uvicorn-middleware",
    "uvicorn-cli",
    "uvicorn-worker",
)


class SmokeFailure(Exception):
    """Something a scenario promises did not hold; the message says what."""


def program(name: str) -> str:
    """A console script of the environment under test (next to its python, not from PATH)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SmokeFailure(f"the environment has no {name} command ({path})")
    return str(path)


class ServerProcess:
    """A server command run as a child in its own session, its output collected line by line."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        print("+", " ".join(argv), flush=True)
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._pending: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._pending.put(line.rstrip("\n"))
        self._pending.put(None)

    def _take(self, timeout: float) -> str | None:
        line = self._pending.get(timeout=timeout)
        if line is not None:
            self.lines.append(line)
        return line

    def wait_for(self, pattern: str, what: str) -> re.Match[str]:
        """The first output line matching ``pattern``; SmokeFailure if the server ends or stays silent."""
        compiled = re.compile(pattern)
        while True:
            try:
                line = self._take(STARTUP_TIMEOUT)
            except queue.Empty:
                raise SmokeFailure(f"no {what} within {STARTUP_TIMEOUT:.0f} s:\n{self.output}") from None
            if line is None:
                raise SmokeFailure(f"the server ended before {what}:\n{self.output}")
            if found := compiled.search(line):
                return found

    def stop(self, how: signal.Signals) -> int:
        """Send ``how`` (as a user or supervisor would), wait for the exit, return the exit code."""
        self.process.send_signal(how)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SmokeFailure(
                f"still running {STOP_TIMEOUT:.0f} s after {how.name}:\n{self.output}"
            ) from None
        with contextlib.suppress(queue.Empty):
            while self._take(STOP_TIMEOUT) is not None:
                pass
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def http_get(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET with the standard library's client."""
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


def check_installed(expected: set[str], version: str, absent: tuple[str, ...] = ()) -> None:
    """Exactly ``expected`` of our distributions are installed, each at ``version``; ``absent`` are not."""
    found = {
        name: dist.version
        for dist in importlib.metadata.distributions()
        if (name := re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()) in OURS
    }
    if set(found) != expected:
        raise SmokeFailure(f"installed {sorted(found)}, expected exactly {sorted(expected)}")
    wrong = {name: found_version for name, found_version in found.items() if found_version != version}
    if wrong:
        raise SmokeFailure(f"installed versions {wrong}, expected {version}")
    for name in absent:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            importlib.metadata.distribution(name)
            raise SmokeFailure(f"{name} is installed, but nothing in this scenario should need it")


def check_served_from_here(report: dict[str, object]) -> None:
    """The server imported uvicorn from this environment, not from a checkout."""
    prefix = os.path.realpath(sys.prefix)
    location = str(report.get("uvicorn", ""))
    if not location.startswith(prefix + os.sep):
        raise SmokeFailure(f"the server imported uvicorn from {location}, outside {prefix}")


def smoke_main(check: Callable[[str], None]) -> None:
    """Run a smoke script's check with the release version (its argument); exit 1 saying why it failed."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} RELEASE_VERSION")
    try:
        check(sys.argv[1])
    except SmokeFailure as failure:
        sys.exit(f"SMOKE FAILED: {failure}")
