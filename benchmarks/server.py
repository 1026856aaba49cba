"""One benchmark server process: started pinned to a core, drained, observed, stopped.

Every server is started the same way: ``taskset -c CPU COMMAND ...`` (the
command comes from ``benchmarks.sides``) with stdout and stderr on pipes that a
thread of the runner empties, as a process manager would. The access log
therefore costs what it costs in production (formatting and a write to a
pipe), not a write to a terminal. Readings (CPU time, memory, descriptors)
cover the server's whole process tree: workers of a supervisor included.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import procfs
from benchmarks.environment import REPO_ROOT

HOST = "127.0.0.1"


class ServerError(Exception):
    """The server did not start, or died; the message carries its last log lines."""


@dataclass(frozen=True)
class ServerSpec:
    """What to serve and with which ``uvicorn.run`` options; each peer maps them to its own flags."""

    app: str
    http: str = "auto"
    loop: str = "auto"
    ws: str = "auto"
    access_log: bool = True
    timeout_keep_alive: int = 5
    http2: bool = False
    # --admin-port's metrics and health listener (ours only; on a port the kernel picks).
    admin: bool = False

    def arguments(self, http: str | None = None) -> list[str]:
        """``serve.py``'s arguments; ``http`` overrides the protocol (the one a uvicorn needs for HTTP/2)."""
        arguments = [
            self.app,
            f"--http={http or self.http}",
            f"--loop={self.loop}",
            f"--ws={self.ws}",
            f"--access-log={'on' if self.access_log else 'off'}",
            f"--timeout-keep-alive={self.timeout_keep_alive}",
        ]
        if self.admin:
            arguments.append("--admin-port")
        return [*arguments, "--http2"] if self.http2 else arguments


# Seconds between two reads of a server's pipe, and the pipe size that makes it safe:
# even 100k log lines/s (~10 MB/s) fill only a tenth of the pipe meanwhile.
_DRAIN_PAUSE = 0.01
_PIPE_SIZE = 1 << 20


def _enlarge(fd: int) -> None:
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: the default size still works, with less slack


class _PipeDrain:
    """Read a pipe to its end in a thread, keeping a line count, the last lines and error lines."""

    _KEEP_BYTES = 16384

    def __init__(self, fd: int, *, watch_errors: bool = False) -> None:
        self.lines = 0
        self.error_lines: list[str] = []
        self._fd = fd
        self._watch_errors = watch_errors
        self._recent = b""
        self._truncated = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        partial = b""
        while chunk := os.read(self._fd, 1 << 20):
            self.lines += chunk.count(b"\n")
            recent = self._recent + chunk
            self._truncated = self._truncated or len(recent) > self._KEEP_BYTES
            self._recent = recent[-self._KEEP_BYTES :]
            if self._watch_errors:  # only for stderr, where volume is low
                *complete, partial = (partial + chunk).split(b"\n")
                self.error_lines += [
                    line.decode("utf-8", "replace").strip()
                    for line in complete
                    if line.startswith((b"ERROR", b"Traceback", b"CRITICAL"))
                ]
            # The access log arrives a line per write; reading each on its own
            # would cost the load core a wake-up per request. Pausing between
            # reads batches them; the pipe holds far more than arrives meanwhile.
            time.sleep(_DRAIN_PAUSE)
        os.close(self._fd)

    def tail(self) -> list[str]:
        lines = self._recent.decode("utf-8", "replace").splitlines()
        if self._truncated and lines:
            lines.pop(0)  # may start mid-line
        return [line.rstrip() for line in lines if line.strip()]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# Builds a server's command line for the port it must listen on.
CommandBuilder = Callable[[int], list[str]]


class ServerProcess:
    """A running server (any peer's); use as a context manager so it is always stopped."""

    def __init__(self, command: CommandBuilder, spec: ServerSpec, cpu: int) -> None:
        self.command = command
        self.spec = spec
        self.cpu = cpu
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: _PipeDrain | None = None
        self._stderr: _PipeDrain | None = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self._process is not None, "server not started"
        return self._process.pid

    @property
    def stdout_lines(self) -> int:
        """Lines the server wrote to stdout so far: the access log, with default logging."""
        return self._stdout.lines if self._stdout else 0

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        _enlarge(out_write)
        _enlarge(err_write)
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        command = ["taskset", "-c", str(self.cpu), *self.command(self.port)]
        try:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,  # where the peers' CLIs import benchmarks.apps from
                stdin=subprocess.DEVNULL,
                stdout=out_write,
                stderr=err_write,
                env=env,
                # Its own session: a Ctrl-C at the terminal reaches the runner
                # only, and the runner stops the server in order.
                start_new_session=True,
            )
        finally:
            os.close(out_write)
            os.close(err_write)
        self._stdout = _PipeDrain(out_read)
        self._stderr = _PipeDrain(err_read, watch_errors=True)
        self._wait_until_listening(timeout)

    def _wait_until_listening(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    return
            except OSError:
                pass
            try:
                # Doubles as the pause between connection attempts.
                code = self._process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerError(f"not listening after {timeout:.0f}s{self._last_words()}") from None
                continue
            self.stop()
            raise ServerError(f"exited with code {code} at startup{self._last_words()}")

    def _last_words(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.join(1.0)
        tail = [line for line in self._stderr.tail() if line.strip()]
        return f": {tail[-1].strip()}" if tail else ""

    def check_alive(self) -> None:
        """Raise ServerError if the server exited (crashed) since it started."""
        if self._process is not None and (code := self._process.poll()) is not None:
            raise ServerError(f"died with code {code}{self._last_words()}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for drain in (self._stdout, self._stderr):
            if drain is not None:
                drain.join(5.0)

    @property
    def error_lines(self) -> list[str]:
        """Lines of stderr that start with ERROR, CRITICAL or Traceback, so far."""
        return self._stderr.error_lines if self._stderr else []

    # ---------------------------------------------------------------- /proc readings

    def rss_kib(self) -> int:
        """Resident set size of the server's process tree in KiB."""
        return procfs.tree_rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server's process tree has used, all threads, reaped children too."""
        return procfs.tree_cpu_seconds(self.pid)

    def open_fds(self) -> int:
        return procfs.tree_open_fds(self.pid)

    def core_meter(self, load_cpu: int) -> CoreMeter:
        """Start measuring who uses the two cores: the server, the load generator, anything else."""
        return CoreMeter(self, load_cpu)


class CoreMeter:
    """The server's CPU time over a window, and the shares of both cores that were busy."""

    def __init__(self, server: ServerProcess, load_cpu: int) -> None:
        self._server = server
        self._load_cpu = load_cpu
        self._started = time.monotonic()
        self._server_before = server.cpu_seconds()
        self._core_before = procfs.core_busy_seconds(server.cpu)
        self._load_core_before = procfs.core_busy_seconds(load_cpu)

    def read(self) -> dict[str, float]:
        """``server_cpu_seconds``; shares of the window: ``server_cpu``, ``other_cpu``, ``load_core_busy``."""
        wall = max(time.monotonic() - self._started, 1e-9)
        server = self._server.cpu_seconds() - self._server_before
        core = procfs.core_busy_seconds(self._server.cpu) - self._core_before
        load_core = procfs.core_busy_seconds(self._load_cpu) - self._load_core_before
        return {
            "server_cpu_seconds": server,
            "server_cpu": server / wall,
            "other_cpu": max(core - server, 0.0) / wall,
            "load_core_busy": load_core / wall,
        }
