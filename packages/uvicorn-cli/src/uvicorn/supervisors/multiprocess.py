"""``--workers N``: a supervisor process keeping N worker processes serving the same sockets.

The supervisor never imports the app. It wakes when a signal arrives, when a
worker exits, and every half second to check the workers' health (see
:mod:`uvicorn.supervisors._worker` for the pipe protocol):

- a worker that exits is replaced; one that exits with ``STARTUP_FAILURE``
  (3) stops the supervisor, as every replacement would fail the same way;
  workers that keep dying before they serve are replaced after a growing
  delay (:mod:`uvicorn.supervisors._backoff`);
- a worker that leaves a health check unanswered for
  ``--timeout-worker-healthcheck`` seconds is killed and replaced;
- SIGINT / SIGTERM: every worker shuts down gracefully; one still running
  ``--timeout-graceful-shutdown`` (+ the health check timeout) seconds later
  is killed;
- SIGHUP: each worker is replaced in turn, the replacement serving before the
  old one stops accepting and finishes its requests;
- SIGTTIN / SIGTTOU: one worker more / less.
"""

from __future__ import annotations

import logging
import os
import signal
import socket as socket_module
import sys
import threading
import time
from multiprocessing.connection import wait
from socket import socket
from types import FrameType
from typing import TYPE_CHECKING, Any

from uvicorn._ansi import style
from uvicorn._binding import reuse_port_copy
from uvicorn._startup import STARTUP_FAILURE
from uvicorn._subprocess import check_app_import_string, listen_now
from uvicorn._systemd import SystemdNotifier
from uvicorn._telemetry import SupervisorTelemetry
from uvicorn.supervisors._backoff import CrashBackoff
from uvicorn.supervisors._titles import MASTER_TITLE, set_process_title
from uvicorn.supervisors._worker import Process, stop_timeout

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["SIGNALS", "Multiprocess", "Process"]

logger = logging.getLogger("uvicorn.error")

#: The signals the supervisor handles, by number, with their names without "SIG".
SIGNALS: dict[int, str] = {
    getattr(signal, f"SIG{name}"): name
    for name in ("INT", "TERM", "BREAK", "HUP", "QUIT", "TTIN", "TTOU", "USR1", "USR2", "WINCH")
    if hasattr(signal, f"SIG{name}")
}
_EXIT_SIGNALS = {number for number, name in SIGNALS.items() if name in ("INT", "TERM", "BREAK")}
# How often the supervisor checks health and signals queued without a wake-up (e.g. by tests).
_TICK_SECONDS = 0.5
# How long a worker whose health check failed may take to be reaped if it has in fact died.
_REAP_GRACE = 0.2


class Multiprocess:
    """Run ``config.workers`` server processes on ``sockets`` until SIGINT or SIGTERM."""

    def __init__(self, config: Config, sockets: list[socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.processes_num = config.workers
        self.processes: list[Process] = []
        # Slots whose worker died before serving, with when to start the next one (crash-loop backoff).
        self._respawn_at: dict[int, float] = {}
        self._backoff = CrashBackoff()
        # With --reuse-port: the listening sockets of each worker slot (slot 0: ``sockets``).
        self._slot_sockets: list[list[socket]] = []
        # Workers told to stop (SIGHUP, SIGTTOU) and not yet exited, with when to kill them.
        self.retiring: list[tuple[Process, float | None]] = []
        self.should_exit = threading.Event()
        #: Signals received and not yet handled, oldest first.
        self.signal_queue: list[int] = []
        # Set when a worker could not start: the supervisor then exits with STARTUP_FAILURE.
        self.startup_failed = False
        self._wakeup: tuple[int, int] | None = None
        self._systemd = SystemdNotifier(None)  # read from the environment in run()
        self._telemetry: SupervisorTelemetry | None = None  # --admin-port, from run()
        # Whether systemd was told READY=1 since the start or the last reload.
        self._ready_announced = False
        # Handlers go in here, not in run(): run() may be called from another thread.
        self._previous_handlers: dict[int, Any] = {}
        for sig in SIGNALS:
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        # Only queue and wake the loop: a handler that took locks could deadlock the
        # code it interrupted. The loop does the work.
        self.signal_queue.append(sig)
        if self._wakeup is not None:
            try:
                os.write(self._wakeup[1], b"\0")
            except OSError:
                pass  # the pipe is full: the loop is awake anyway

    # ------------------------------------------------------------ the main loop

    def run(self) -> None:
        """Start the workers, supervise them until told to exit, then stop them all."""
        check_app_import_string(self.config)
        pid = os.getpid()
        logger.info(
            "Started parent process [%d]",
            pid,
            extra={"color_message": "Started parent process [" + style("%d", fg="cyan", bold=True) + "]"},
        )
        self._wakeup = _nonblocking_pipe()
        self._systemd = SystemdNotifier.from_environment()
        set_process_title(MASTER_TITLE)
        try:
            # --admin-port: one listener for all workers, started first: they are told where to report.
            self._telemetry = SupervisorTelemetry.start(self.config, ready=self._serving)
            listen_now(self.sockets, self.config.backlog)
            self.init_processes()
            while not self.should_exit.is_set():
                self._sleep_until_something_happens()
                self.handle_signals()
                self.keep_subprocess_alive()
                self._reap_retiring()
                self._announce_when_ready()
                self._systemd.watchdog()  # our loop runs: the supervisor is healthy
            self._systemd.stopping()
            self.terminate_all()
            self.join_all()
        finally:
            if self._telemetry is not None:
                self._telemetry.stop()
            self._close_slot_sockets(1)
            self._close_wakeup()
            self._systemd.close()
            self._restore_signal_handlers()
        logger.info(
            "Stopping parent process [%d]",
            pid,
            extra={"color_message": "Stopping parent process [" + style("%d", fg="cyan", bold=True) + "]"},
        )
        if self.startup_failed and threading.current_thread() is threading.main_thread():
            # The command's exit code says the server never started, as without --workers.
            # (Elsewhere, e.g. in a thread, the caller reads ``startup_failed``.)
            sys.exit(STARTUP_FAILURE)

    def _sleep_until_something_happens(self) -> None:
        running = self.processes + [process for process, _ in self.retiring]
        waitables: list[Any] = [
            process.process.sentinel for process in running if process.pid and process.exitcode is None
        ]
        # Not the pipes: a starting worker answers each health check at once, and waking on
        # every answer would ping-pong without pause. READY messages are read on the tick.
        if self._wakeup is not None:
            waitables.append(self._wakeup[0])
        timeout = _TICK_SECONDS
        if self._respawn_at:  # wake up when a delayed worker is due
            timeout = max(0.0, min(timeout, min(self._respawn_at.values()) - time.monotonic()))
        wait(waitables, timeout=timeout)
        if self._wakeup is not None:
            try:
                while os.read(self._wakeup[0], 512):
                    pass
            except BlockingIOError:
                pass

    def _close_wakeup(self) -> None:
        if self._wakeup is not None:
            for fd in self._wakeup:
                os.close(fd)
            self._wakeup = None

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig, handler in self._previous_handlers.items():
                signal.signal(sig, handler)

    # ------------------------------------------------------------ the workers

    def init_processes(self) -> None:
        """Start ``processes_num`` workers."""
        for index in range(self.processes_num):
            self.processes.append(self._start_process(index))

    def _start_process(self, index: int) -> Process:
        self._respawn_at.pop(index, None)
        process = Process(self.config, self._sockets_of(index), number=index + 1)
        process.start()
        return process

    def _sockets_of(self, index: int) -> list[socket]:
        """The listening sockets of worker slot ``index``.

        Without --reuse-port every worker shares ``sockets``. With it, each slot
        has its own SO_REUSEPORT copy of every TCP socket, which the kernel
        balances connections over. The supervisor keeps each copy open and
        listening, and a slot's replacement worker inherits it: connections
        waiting in its backlog are served by the replacement, never reset.
        """
        if not self.config.reuse_port:
            return self.sockets
        while len(self._slot_sockets) <= index:
            if not self._slot_sockets:
                self._slot_sockets.append(self.sockets)
            else:
                self._slot_sockets.append(self._reuse_port_copies())
        return self._slot_sockets[index]

    def _reuse_port_copies(self) -> list[socket]:
        copies: list[socket] = []
        for sock in self.sockets:
            if not _balanced(sock):
                copies.append(sock)  # UNIX and inherited sockets stay shared
                continue
            try:
                copy = reuse_port_copy(sock)
            except OSError as exc:
                logger.warning("Could not open another SO_REUSEPORT socket (%s); the worker shares one.", exc)
                copies.append(sock)
                continue
            copy.listen(self.config.backlog)  # connections wait for the worker in its backlog
            copies.append(copy)
        return copies

    def _close_slot_sockets(self, first: int) -> None:
        """Close the SO_REUSEPORT copies of slots ``first`` and above (never the shared ``sockets``)."""
        for copies in self._slot_sockets[first:]:
            for sock in copies:
                if sock not in self.sockets:
                    sock.close()
        del self._slot_sockets[max(first, 1) :]

    def terminate_all(self) -> None:
        """Ask every worker to shut down gracefully."""
        for process in self.processes:
            process.terminate()

    def join_all(self) -> None:
        """Wait for every worker to exit; kill those still running after the graceful shutdown timeout."""
        deadline = self._stop_deadline()
        stopping = [(process, deadline) for process in self.processes] + self.retiring
        self.retiring = []
        for process, kill_at in stopping:
            process.join(None if kill_at is None else max(0.0, kill_at - time.monotonic()))
            if process.process.is_alive():
                self._kill_late(process)

    def _stop_deadline(self) -> float | None:
        timeout = stop_timeout(self.config)
        return None if timeout is None else time.monotonic() + timeout

    def _retire(self, process: Process) -> None:
        process.retire()
        self.retiring.append((process, self._stop_deadline()))

    def _reap_retiring(self) -> None:
        still_running: list[tuple[Process, float | None]] = []
        for process, kill_at in self.retiring:
            if not process.process.is_alive():
                process.join()
                self._worker_exited(process, None)  # its counts are kept; not a restart
            elif kill_at is not None and time.monotonic() > kill_at:
                self._kill_late(process)
            else:
                still_running.append((process, kill_at))
        self.retiring = still_running

    def _kill_late(self, process: Process) -> None:
        logger.warning("Child process [%s] did not stop in time; killing it.", process.pid)
        process.kill()
        process.join()

    def keep_subprocess_alive(self) -> None:
        """Replace workers that exited or stopped answering health checks."""
        if self.should_exit.is_set():
            return  # stopping: nothing to keep alive
        timeout = self.config.timeout_worker_healthcheck
        for index, process in enumerate(self.processes):
            if index in self._respawn_at:
                if time.monotonic() >= self._respawn_at[index]:
                    self.processes[index] = self._start_process(index)
                continue
            alive = process.process.is_alive()
            if alive and process.check_health(timeout):
                continue
            if alive:
                # A worker that has just died breaks its pipe a moment before it can be reaped:
                # that moment is waited for, so its death is counted as what it was.
                process.process.join(_REAP_GRACE)
                alive = process.process.is_alive()
            if not alive:
                process.join()
                if process.exitcode == STARTUP_FAILURE:
                    logger.error(
                        "Child process [%s] failed to start, stopping the parent process.", process.pid
                    )
                    self.startup_failed = True
                    self.should_exit.set()
                    return
                cause = "exit" if process.exitcode == 0 else "crash"
            else:
                logger.error(
                    "Child process [%s] did not answer a health check within %s seconds; killing it.",
                    process.pid,
                    timeout,
                )
                process.kill()
                process.join()
                cause = "healthcheck"
            self._worker_exited(process, cause)  # counted before it is logged
            logger.info("Child process [%s] died", process.pid)
            self._replace_dead(index, process)

    def _replace_dead(self, index: int, process: Process) -> None:
        """Start a replacement for a dead worker: at once, or later when its slot is crash-looping."""
        early_deaths, delay = self._backoff.record_death(index, served=process.has_served())
        if delay <= 0:
            self.processes[index] = self._start_process(index)
            return
        logger.warning(
            "Child process [%s] died before serving (exit code %s, %d times in a row); "
            "starting a new one in %.1f seconds.",
            process.pid,
            process.exitcode,
            early_deaths,
            delay,
        )
        self._systemd.status(f"Worker {index + 1} keeps dying at startup; next attempt in {delay:.1f} s")
        self._respawn_at[index] = time.monotonic() + delay

    def restart_all(self) -> None:
        """Replace every worker, one at a time, each replacement serving before the old one retires."""
        for index, old_process in enumerate(self.processes):
            if self._exit_requested():
                return
            new_process = self._start_process(index)
            timeout = self.config.timeout_worker_healthcheck
            if not new_process.wait_ready(timeout, self._give_up_waiting):
                new_process.kill()
                new_process.join()
                if not self._exit_requested():
                    logger.error(
                        "New child process [%s] was not ready in time; "
                        "keeping worker [%s] and aborting the restart.",
                        new_process.pid,
                        old_process.pid,
                    )
                return
            # The replacement serves: the old one may stop accepting and finish what it has.
            self.processes[index] = new_process
            self._retire(old_process)
            if self._telemetry is not None:
                self._telemetry.restarts["reload"] += 1

    def _announce_when_ready(self) -> None:
        """Tell systemd READY=1 once every worker serves (at startup and after a reload)."""
        if self._ready_announced or not self.processes:
            return
        if all(process.announced_ready for process in self.processes):
            self._ready_announced = True
            self._systemd.ready(f"Serving with {len(self.processes)} worker(s)")

    def _serving(self) -> bool:
        """For /readyz: a worker serves and no shutdown has begun."""
        return not self._exit_requested() and any(process.announced_ready for process in list(self.processes))

    def _worker_exited(self, process: Process, cause: str | None) -> None:
        if self._telemetry is not None:
            self._telemetry.worker_exited(process.pid, cause)

    def _give_up_waiting(self) -> bool:
        """While a long operation waits (a rolling restart): keep the watchdog fed, stop on exit signals."""
        self._systemd.watchdog()
        return self._exit_requested()

    def _exit_requested(self) -> bool:
        """True once SIGINT/SIGTERM arrived, even while a long operation delays handling it."""
        return self.should_exit.is_set() or any(sig in _EXIT_SIGNALS for sig in self.signal_queue)

    # ------------------------------------------------------------ signals

    def handle_signals(self) -> None:
        """Run the handler of each queued signal, oldest first."""
        while self.signal_queue:
            sig = self.signal_queue.pop(0)
            name = SIGNALS.get(sig, str(sig))
            handler = getattr(self, f"handle_{name.lower()}", None)
            if handler is not None:
                handler()
            else:
                logger.debug("Received signal %s, but no handler is defined for it.", name)

    def handle_int(self) -> None:
        logger.info("Received SIGINT, exiting.")
        self.should_exit.set()

    def handle_term(self) -> None:
        logger.info("Received SIGTERM, exiting.")
        self.should_exit.set()

    def handle_break(self) -> None:  # pragma: no cover (Windows)
        logger.info("Received SIGBREAK, exiting.")
        self.should_exit.set()

    def handle_hup(self) -> None:
        logger.info("Received SIGHUP, restarting processes.")
        self._systemd.reloading("Replacing the workers one at a time")
        self._ready_announced = False  # READY=1 again once every (new) worker serves
        self.restart_all()

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        self.processes_num += 1
        self.processes.append(self._start_process(len(self.processes)))

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info("Already reached one process, cannot decrease the number of processes anymore.")
            return
        self.processes_num -= 1
        self._respawn_at.pop(len(self.processes) - 1, None)
        self._backoff.forget(len(self.processes) - 1)
        self._retire(self.processes.pop())
        self._close_slot_sockets(len(self.processes))


def _balanced(sock: socket) -> bool:
    """A TCP socket bound with SO_REUSEPORT: the kernel can balance over copies of it."""
    reuse_port = getattr(socket_module, "SO_REUSEPORT", None)
    if reuse_port is None or sock.family not in (socket_module.AF_INET, socket_module.AF_INET6):
        return False
    return bool(sock.getsockopt(socket_module.SOL_SOCKET, reuse_port))


def _nonblocking_pipe() -> tuple[int, int]:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    return read_end, write_end
