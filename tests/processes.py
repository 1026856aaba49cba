"""Child processes for tests: the environment they start with, following what they print, ending them.

What every test that starts a process shares. The specialised helpers build on it:
``tests/cli/processes.py`` (the ``uvicorn`` command), ``tests/worker/arbiter.py`` (a gunicorn arbiter)
and ``tests/repo/sample_processes.py`` (the documentation's samples).

All waiting is for a line of output or for an exit, bounded by ``SAFETY_TIMEOUT``:
a safety net against a hang, never a way to synchronise.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "REPO_ROOT",
    "SAFETY_TIMEOUT",
    "VENV_BIN",
    "Output",
    "ServerProcess",
    "child_env",
    "children_of",
    "cmdline",
    "error_lines",
    "kill_group",
    "run_python",
    "wait_until_exited",
]

SAFETY_TIMEOUT = 60.0
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The programs of the environment running the tests (uvicorn, gunicorn, python).
VENV_BIN = Path(sys.executable).parent

# Variables that would change what a server started by a test does.
_SERVER_VARIABLES = ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS")
_SERVER_PREFIXES = ("UVICORN_", "GUNICORN_")


def child_env(extra: dict[str, str] | None = None, *, repo_importable: bool = True) -> dict[str, str]:
    """Our environment without any variable uvicorn or gunicorn read, plus ``extra``.

    Output unbuffered, this environment's programs first on ``PATH`` and, unless
    ``repo_importable`` is false, the repository on ``PYTHONPATH`` (for ``tests.*`` apps).
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_SERVER_PREFIXES) and name not in _SERVER_VARIABLES
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    if repo_importable:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run_python(code: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) with this interpreter; its exit code and output once it has ended."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of ``stderr``."""
    return [line for line in stderr.splitlines() if line.strip()]


class Output:
    """The lines a child's stream has produced so far (read by a thread), and ways to wait for more."""

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

    @property
    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def mark(self) -> int:
        """A position in the output: ``after=mark`` looks only at the lines that come later."""
        with self._changed:
            return len(self.lines)

    def matches(self, pattern: str | re.Pattern[str], *, after: int = 0) -> list[re.Match[str]]:
        """Every line (from ``after`` on) matching ``pattern``, as matches."""
        regex = re.compile(pattern)
        with self._changed:
            return [match for line in self.lines[after:] if (match := regex.search(line))]

    def find(
        self,
        pattern: str | re.Pattern[str],
        *,
        count: int = 1,
        after: int = 0,
        seconds: float = SAFETY_TIMEOUT,
    ) -> tuple[int, re.Match[str]] | None:
        """The position and match of the ``count``-th line (from ``after`` on) matching ``pattern``.

        Waits for it up to ``seconds``; None if the stream ends or the time passes first.
        """
        regex = re.compile(pattern)
        give_up = time.monotonic() + seconds
        found = 0
        position = after
        with self._changed:
            while True:
                for index in range(position, len(self.lines)):
                    match = regex.search(self.lines[index])
                    if match:
                        found += 1
                        if found == count:
                            return index, match
                position = max(position, len(self.lines))
                remaining = give_up - time.monotonic()
                if self.ended or remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def wait_for(self, pattern: str | re.Pattern[str], count: int = 1, *, after: int = 0) -> re.Match[str]:
        """The ``count``-th line (from ``after`` on) matching ``pattern``, once it is there.

        Fails, showing the output, if the stream ends first or ``SAFETY_TIMEOUT`` passes.
        """
        found = self.find(pattern, count=count, after=after)
        if found is None:
            why = "the stream ended" if self.ended else "timeout"
            raise AssertionError(f"no line {count} matching {pattern!r} ({why}); output was:\n" + self.text)
        return found[1]

    def wait_until_ended(self) -> None:
        """Until the stream has ended (bounded by the safety timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self.ended, SAFETY_TIMEOUT)

    def join(self) -> None:
        self._thread.join(SAFETY_TIMEOUT)


class ServerProcess:
    """A command run as a child in its own session, its output followed line by line.

    ``log`` follows stderr and ``stdout`` stdout, or ``log`` both when ``merge_output``
    (then ``stdout`` is None). Being a session leader, the child can be ended with every
    process it started (supervisor, workers, multiprocessing's helpers): :meth:`stop`.
    ``env`` is the child's whole environment (default: :func:`child_env`).
    """

    def __init__(
        self,
        argv: list[str],
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
        *,
        merge_output: bool = False,
    ) -> None:
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=child_env() if env is None else env,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        if merge_output:
            self.log = Output(self.process.stdout)
            self.stdout: Output | None = None
        else:
            assert self.process.stderr is not None
            self.log = Output(self.process.stderr)
            self.stdout = Output(self.process.stdout)
        self._port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        """The port from uvicorn's "Uvicorn running on ..." line (waits for it)."""
        if self._port is None:
            self._port = int(self.log.wait_for(r"Uvicorn running on https?://[^ ]+:(\d+) ").group(1))
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait_exit(self) -> int:
        """Wait for the child to exit (and its output to be read to the end); its exit code."""
        code = self.process.wait(SAFETY_TIMEOUT)
        self._join()
        return code

    def worker_pids(self) -> list[int]:
        """The server processes the child's supervisor has running now (spawned children)."""
        # A worker's command line, unless setproctitle has renamed it "uvicorn: worker N".
        return [
            pid
            for pid in children_of(self.pid)
            if b"spawn_main" in (line := cmdline(pid)) or line.startswith(b"uvicorn: worker")
        ]

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole session (default: kill it) and reap the child."""
        kill_group(self.pid, sig)
        self.process.wait(SAFETY_TIMEOUT)
        self._join()

    def group_is_gone(self) -> bool:
        """True when no process of the child's session is left."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def _join(self) -> None:
        self.log.join()
        if self.stdout is not None:
            self.stdout.join()


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal every process of the session (process group) that ``pid`` leads, if any is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


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


def cmdline(pid: int) -> bytes:
    """The command line of process ``pid`` (NUL-separated), or ``b""`` once it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
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
