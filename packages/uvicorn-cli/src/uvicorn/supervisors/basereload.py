"""``--reload``: a supervisor that runs the server in a child process and restarts it on changes.

The supervisor never imports the app. Subclasses decide what a change is
(:meth:`BaseReload.should_restart`); this class owns the child process, the
signals and the loop: check, restart on changes, stop on SIGINT / SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socket import socket
from types import FrameType
from typing import TYPE_CHECKING, Any

from uvicorn._ansi import style
from uvicorn._subprocess import check_app_import_string, get_subprocess, listen_now
from uvicorn._systemd import SystemdNotifier
from uvicorn.supervisors._worker import stop_timeout

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from uvicorn.config import Config

__all__ = ["HANDLED_SIGNALS", "BaseReload", "ServerTarget"]

# What the child process serves with: ``Server.run(sockets=...)``.
ServerTarget = Callable[[list[socket] | None], None]

HANDLED_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT,  # Ctrl+C
    signal.SIGTERM,  # kill <pid>
)

logger = logging.getLogger("uvicorn.error")


class SignalSafeEvent(threading.Event):
    """A ``threading.Event`` that a signal handler may set.

    A handler runs in the main thread between two bytecodes, possibly while that
    thread is inside ``wait()`` holding the event's internal lock; with the
    default non-reentrant lock, ``set()`` in the handler would then deadlock.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition(threading.RLock())


class BaseReload:
    """Serve ``target(sockets=...)`` in a child process, restarting it when :meth:`should_restart` says."""

    reloader_name: str | None = None  # named in the log lines; each strategy names itself

    def __init__(self, config: Config, target: ServerTarget, sockets: list[socket]) -> None:
        self.config = config
        self.target = target
        self.sockets = sockets
        self.should_exit: threading.Event = SignalSafeEvent()
        self.pid = os.getpid()
        self.is_restarting = False
        self.process: SpawnProcess
        self._previous_handlers: dict[int, Any] = {}
        self._systemd = SystemdNotifier(None)  # read from the environment in startup()

    def signal_handler(self, sig: int, frame: FrameType | None) -> None:
        """SIGINT / SIGTERM: stop watching, then stop the server."""
        if sys.platform == "win32" and self.is_restarting:  # pragma: no cover
            # The CTRL_C_EVENT we sent the old child reached us too: not a request to exit.
            self.is_restarting = False
        else:
            self.should_exit.set()

    def run(self) -> None:
        """Start the server, restart it on every change, stop it when told to exit."""
        check_app_import_string(self.config)
        self.startup()
        for changes in self:
            if changes:
                logger.warning(
                    "%s detected changes in %s. Reloading...",
                    self.reloader_name,
                    ", ".join(map(_display_path, changes)),
                )
                self.restart()
        self.shutdown()

    def pause(self) -> None:
        """Wait ``reload_delay`` between two checks; end the iteration once told to exit."""
        self._systemd.watchdog()
        if self.should_exit.wait(self.config.reload_delay):
            raise StopIteration()

    def __iter__(self) -> Iterator[list[Path] | None]:
        return self

    def __next__(self) -> list[Path] | None:
        return self.should_restart()

    def startup(self) -> None:
        """Log, take over SIGINT / SIGTERM and start the first server process."""
        logger.info(
            "Started reloader process [%d] using %s",
            self.pid,
            self.reloader_name,
            extra={
                "color_message": "Started reloader process [%s] using %s"
                % (_highlight(self.pid), _highlight(self.reloader_name))
            },
        )
        for sig in HANDLED_SIGNALS:
            self._previous_handlers[sig] = signal.signal(sig, self.signal_handler)
        listen_now(self.sockets, self.config.backlog)
        self._start_process()
        # The server process has started; connections wait in the listening sockets' backlog.
        self._systemd = SystemdNotifier.from_environment()
        self._systemd.ready("Serving (reloading on changes)")

    def restart(self) -> None:
        """Stop the server process (gracefully) and start a new one on the same sockets."""
        self._systemd.reloading("Restarting the server after changes")
        self._stop_process()
        self._start_process()
        self._systemd.ready("Serving (reloading on changes)")

    def shutdown(self) -> None:
        """Stop the server process, close the sockets and give the signals back."""
        self._systemd.stopping()
        self._stop_process()
        self._systemd.close()
        for sock in self.sockets:
            sock.close()
        if threading.current_thread() is threading.main_thread():
            for sig, handler in self._previous_handlers.items():
                signal.signal(sig, handler)
        logger.info(
            "Stopping reloader process [%d]",
            self.pid,
            extra={"color_message": "Stopping reloader process [%s]" % _highlight(self.pid)},
        )

    def should_restart(self) -> list[Path] | None:
        """The files changed since the last call (falsy: none); raise StopIteration to stop."""
        raise NotImplementedError("Reload strategies should override should_restart()")

    def _start_process(self) -> None:
        self.process = get_subprocess(config=self.config, target=self.target, sockets=self.sockets)
        self.process.start()

    def _stop_process(self) -> None:
        process = self.process
        if process.pid is None:
            return  # never started
        if process.exitcode is None:
            if sys.platform == "win32":  # pragma: no cover
                # No SIGTERM on Windows: Ctrl+C is the graceful way, and it reaches us too.
                self.is_restarting = not self.should_exit.is_set()
                os.kill(process.pid, signal.CTRL_C_EVENT)
            else:
                process.terminate()
        process.join(stop_timeout(self.config))
        if process.is_alive():
            logger.warning("Server process [%s] did not stop in time; killing it.", process.pid)
            process.kill()
            process.join()


def _highlight(value: object) -> str:
    return style(str(value), fg="cyan", bold=True)


def _display_path(path: Path) -> str:
    """``path`` quoted, relative to the working directory when it is inside it."""
    try:
        return f"'{path.relative_to(Path.cwd())}'"
    except ValueError:
        return f"'{path}'"
