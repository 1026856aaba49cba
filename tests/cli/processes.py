"""Run the real ``uvicorn`` command in a child process and follow what it logs.

Each command runs in its own session (process group), so a test can signal
it and, whatever happens, every process it started (supervisor, workers,
multiprocessing's resource tracker) is killed at teardown.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

# A safety net against a test that would hang, never a way to synchronise.
SAFETY_TIMEOUT = 60.0

REPO_ROOT = Path(__file__).resolve().parents[2]
UVICORN_SCRIPT = str(Path(sys.executable).with_name("uvicorn"))


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment without any variable uvicorn reads, plus ``extra``; the repo importable."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("UVICORN_") and name not in ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


class Output:
    """The lines a stream has produced so far, and a way to wait for more."""

    def __init__(self, stream: Iterator[str]) -> None:
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Iterator[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def matches(self, pattern: str | re.Pattern[str]) -> list[re.Match[str]]:
        regex = re.compile(pattern)
        with self._changed:
            return [match for line in self.lines if (match := regex.search(line))]

    def wait_for(self, pattern: str | re.Pattern[str], count: int = 1) -> re.Match[str]:
        """The ``count``-th line matching ``pattern`` (from the start), once it is there."""
        deadline = time.monotonic() + SAFETY_TIMEOUT
        with self._changed:
            while True:
                found = self.matches(pattern)
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if self.ended or remaining <= 0:
                    why = "the stream ended" if self.ended else "timeout"
                    raise AssertionError(
                        f"no line {count} matching {pattern!r} ({why}); output was:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(remaining)

    def join(self) -> None:
        self._thread.join(SAFETY_TIMEOUT)

    def wait_until_ended(self) -> None:
        """Until the stream has ended (bounded by the safety timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self.ended, SAFETY_TIMEOUT)

    @property
    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


class Uvicorn:
    """A running ``uvicorn`` command: its logs (stderr), its stdout, its process group."""

    def __init__(
        self, command: list[str], cwd: Path, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=child_env(env),
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.log = Output(self.process.stderr)
        self.stdout = Output(self.process.stdout)
        self._port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        """The port from the "Uvicorn running on ..." line (waits for it)."""
        if self._port is None:
            self._port = int(self.log.wait_for(r"Uvicorn running on https?://[^ ]+:(\d+) ").group(1))
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait_exit(self) -> int:
        """Wait for the command to exit (and its output to be read); return its exit code."""
        code = self.process.wait(SAFETY_TIMEOUT)
        self.log.join()
        self.stdout.join()
        return code

    def worker_pids(self) -> list[int]:
        """The server processes this command's supervisor has running now (spawned children)."""
        # A worker's command line, unless setproctitle has renamed it "uvicorn: worker N".
        return [
            pid
            for pid in children_of(self.pid)
            if b"spawn_main" in (cmdline := _cmdline(pid)) or cmdline.startswith(b"uvicorn: worker")
        ]

    def stop(self) -> None:
        """Kill the whole process group (every process the command started) and reap the command."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(SAFETY_TIMEOUT)
        self.log.join()
        self.stdout.join()

    def group_is_gone(self) -> bool:
        """True when no process of the command's process group is left."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        return False


def children_of(parent: int) -> list[int]:
    """The pids whose parent is ``parent``, from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == parent:
            children.append(int(entry))
    return sorted(children)


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read()
    except OSError:
        return b""


def wait_until_exited(pid: int) -> None:
    """Block until process ``pid`` (any process, not only a child) has exited."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        readable, _, _ = select.select([pidfd], [], [], SAFETY_TIMEOUT)
        assert readable, f"process {pid} still runs after {SAFETY_TIMEOUT}s"
    finally:
        os.close(pidfd)
