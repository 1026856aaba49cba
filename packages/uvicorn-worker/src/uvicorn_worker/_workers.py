"""The gunicorn worker classes: a gunicorn arbiter forks them, each one runs a uvicorn ``Server``.

gunicorn owns the process: it binds the sockets, loads the application,
watches the heartbeat and decides when a worker stops. The worker turns
gunicorn's settings into a ``Config``, serves the sockets it was given, and
follows gunicorn's worker signals:

=========  ===============================================================
SIGTERM    graceful stop: stop accepting, finish the requests in flight,
           run the lifespan shutdown
SIGQUIT,   quick stop: close connections without waiting for requests and
SIGINT     skip the lifespan shutdown (gunicorn's ``worker_int`` hook runs)
SIGUSR1    reopen the log files
SIGABRT    sent by the arbiter when the heartbeat stopped (``--timeout``):
           ``worker_abort`` hook, exit code 1
=========  ===============================================================

A worker that cannot start serving (the lifespan startup failed, a bad
option, the TLS files) exits with gunicorn's ``WORKER_BOOT_ERROR``, which
stops the arbiter instead of having it respawn a worker that will never boot.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import sys
from collections.abc import Generator
from types import FrameType
from typing import Any, ClassVar, NoReturn

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from uvicorn._compat import asyncio_run
from uvicorn._startup import StartupError, exit_on_startup_error, report_startup_error
from uvicorn._systemd import forget_notify_socket
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.server import Server
from uvicorn_worker._settings import adopt_gunicorn_loggers, config_kwargs_from_gunicorn

__all__ = ["UvicornH11Worker", "UvicornWorker"]

# What CONFIG_KWARGS may name: the parameters of Config.
_CONFIG_OPTIONS = frozenset(inspect.signature(Config).parameters)


class _GunicornServer(Server):
    """A ``Server`` that leaves the process's signals to the gunicorn worker that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The worker installed gunicorn's handlers before the app was loaded. A plain
        # Server would replace the SIGINT and SIGTERM ones while serving (turning
        # SIGINT into a graceful stop) and deliver the signals again once stopped.
        yield


class UvicornWorker(Worker):  # type: ignore[misc]  # gunicorn ships no type information
    """A gunicorn worker serving an ASGI application with uvicorn.

    ``gunicorn -k uvicorn_worker.UvicornWorker module:app``. ``CONFIG_KWARGS``
    are ``Config`` options applied after those derived from gunicorn's
    settings: subclass and override it to choose e.g. the event loop or the
    HTTP implementation (or ``"interface": "wsgi"`` for a WSGI application).
    ``config`` is the worker's ``Config``.
    """

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "auto", "http": "auto"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._server: Server | None = None  # before super(): it sets ``alive``
        self._aborted = False
        super().__init__(*args, **kwargs)
        access_log = adopt_gunicorn_loggers(self.log)
        config_kwargs = config_kwargs_from_gunicorn(
            self.cfg, timeout=self.timeout, max_requests=self.max_requests
        )
        config_kwargs.update(
            # gunicorn loads the application in the child process; _serve() hands it over.
            app=None,
            # gunicorn has configured logging (adopt_gunicorn_loggers): leave it as it is.
            log_config=None,
            access_log=access_log,
            callback_notify=self.callback_notify,
        )
        config_kwargs.update(self.CONFIG_KWARGS)
        with exit_on_startup_error():
            self.config = Config(**config_kwargs)

    @property
    def alive(self) -> bool:
        """gunicorn's "keep serving" flag; clearing it stops the server gracefully.

        gunicorn's own code clears it, not only our signal handlers: its
        ``--reload`` file watcher does so from a thread when a file changes.
        """
        return self._alive

    @alive.setter
    def alive(self, value: bool) -> None:
        self._alive = value
        if not value and self._server is not None:
            self._server.should_exit = True

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        """Called by the arbiter at startup: refuse a ``CONFIG_KWARGS`` naming no ``Config`` option."""
        unknown = sorted(set(cls.CONFIG_KWARGS) - _CONFIG_OPTIONS)
        if unknown:
            log.error(
                "Invalid CONFIG_KWARGS on %s.%s: %s %s not a uvicorn Config option. "
                "Use the parameter names of uvicorn.Config, such as 'loop', 'http', 'ws' or 'lifespan'.",
                cls.__module__,
                cls.__qualname__,
                ", ".join(repr(name) for name in unknown),
                "is" if len(unknown) == 1 else "are",
            )
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    # ------------------------------------------------------------ signals

    def init_signals(self) -> None:
        """Install gunicorn's worker signal handlers (see the module docstring)."""
        # Start from the defaults, not from the arbiter's handlers inherited through fork:
        # its SIGCHLD handler, for one, would take the exit status of the app's subprocesses.
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        # Plain signal handlers rather than the event loop's: they also run while the app
        # blocks the loop, which is exactly when the arbiter sends SIGABRT.
        signal.signal(signal.SIGTERM, self.handle_exit)
        signal.signal(signal.SIGQUIT, self.handle_quit)
        signal.signal(signal.SIGINT, self.handle_quit)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.signal(signal.SIGABRT, self.handle_abort)
        signal.signal(signal.SIGWINCH, self.handle_winch)
        # Don't let a graceful stop or a log reopen interrupt the app's system calls.
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: stop gracefully."""
        self.alive = False

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """SIGQUIT, SIGINT: stop now, without waiting for requests or the lifespan shutdown."""
        server = self._server
        if server is None:
            # Still loading the application: gunicorn's own quick exit (worker_int hook, exit 0).
            super().handle_quit(sig, frame)
            return
        # A Ctrl+C reaches the worker twice, from the terminal and from the arbiter: one hook call.
        first = not server.force_exit
        server.force_exit = True
        self.alive = False
        if first:
            self.cfg.worker_int(self)

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        """SIGABRT (the heartbeat stopped): ``worker_abort`` hook, then exit with code 1."""
        self._aborted = True
        if self._server is not None:
            # The SystemExit below is raised wherever the main thread was, often inside the
            # app, whose errors the protocol reports and survives: make sure we still stop.
            self._server.force_exit = True
        super().handle_abort(sig, frame)  # clears ``alive``, which stops the server

    # ------------------------------------------------------------ running

    def run(self) -> None:
        """Serve gunicorn's sockets until a signal, the request limit or the arbiter's death stops us."""
        if not self.alive:
            return  # SIGTERM arrived while gunicorn was loading the application
        # gunicorn's arbiter speaks to systemd; a worker must not (systemd accepts the main process only).
        forget_notify_socket()
        try:
            loop_factory = self.config.get_loop_factory()
        except (Exception, SystemExit) as exc:
            self._boot_failed(exc)
        asyncio_run(self._serve(), loop_factory=loop_factory)
        if self._aborted:
            sys.exit(1)

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = _GunicornServer(config=self.config)
        self._server = server
        if not self.alive:
            server.should_exit = True
        try:
            await server.serve(sockets=self._listening_sockets())
        except (Exception, SystemExit) as exc:
            if server.started:
                raise
            self._boot_failed(exc)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def _listening_sockets(self) -> list[socket.socket]:
        # gunicorn wraps each listener (TCP, UNIX, reuse-port) around the socket object itself.
        return [getattr(listener, "sock", listener) for listener in self.sockets]

    def _boot_failed(self, exc: BaseException) -> NoReturn:
        """Exit with gunicorn's boot-error code when the server could not start serving.

        The arbiter then stops rather than respawning a worker that would fail
        the same way. A user mistake is one line (uvicorn has logged it if it
        exited with code 3); a surprise gets its traceback here. Other exits
        (SIGABRT's code 1, a quick stop's 0) keep their code.
        """
        if isinstance(exc, SystemExit):
            if exc.code != STARTUP_FAILURE:
                raise exc
        elif isinstance(exc, StartupError):
            report_startup_error(str(exc))
        else:
            self.log.error("Exception while starting the uvicorn server", exc_info=exc)
        raise SystemExit(Arbiter.WORKER_BOOT_ERROR) from None

    async def callback_notify(self) -> None:
        """The server's heartbeat (every ``timeout_notify`` seconds): tell the arbiter we are alive.

        Also stops gracefully once the arbiter is gone, as gunicorn's own
        workers do, rather than serving on as an orphan nobody supervises.
        """
        self.notify()
        if os.getppid() != self.ppid and self.alive:
            self.log.info("Parent changed, shutting down: %s", self)
            self.alive = False


class UvicornH11Worker(UvicornWorker):
    """``UvicornWorker`` with pure-Python parts only: the h11 parser on asyncio's loop (runs on PyPy)."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "asyncio", "http": "h11"}
