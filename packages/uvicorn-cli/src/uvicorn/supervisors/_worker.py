"""One worker process of ``--workers``, and the pipe between it and the supervisor.

Both ends of the pipe live in :class:`Process`: the supervisor uses
``parent_conn``, the worker ``child_conn``. The conversation:

- supervisor → worker ``PING``: the worker answers ``True`` once its server
  is serving, ``False`` before. After startup the answer comes from the
  worker's event loop, so a loop blocked for longer than
  ``--timeout-worker-healthcheck`` counts as hung (before startup a thread
  answers: importing the app or a long lifespan startup is not a hang).
- worker → supervisor ``READY``, unasked and once, when it starts serving: the
  supervisor waits for it instead of polling.
- supervisor → worker ``STOP_ACCEPTING``: the worker closes its listeners,
  lets connections it has just accepted read their request, and answers
  ``STOPPED_ACCEPTING``. Retiring a worker this way before SIGTERM means a
  request that reached it is answered, never dropped as "idle".

When the supervisor dies the pipe breaks and the worker shuts down gracefully
rather than serving on as an orphan.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import wait
from socket import socket
from typing import TYPE_CHECKING, Any

from uvicorn._subprocess import get_subprocess
from uvicorn.server import Server
from uvicorn.supervisors._titles import set_process_title, worker_title

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = [
    "PING",
    "READY",
    "STOPPED_ACCEPTING",
    "STOP_ACCEPTING",
    "Process",
    "SupervisedServer",
    "stop_timeout",
]

logger = logging.getLogger("uvicorn.error")

PING = b"ping"
STOP_ACCEPTING = b"stop-accepting"
READY = "ready"
STOPPED_ACCEPTING = "stopped-accepting"

# After we stop accepting: loop iterations that finish setting up connections accepted just
# before (accept → transport → connection_made → first read), and time for their requests.
_SETTLE_ITERATIONS = 4
_SETTLE_SECONDS = 0.05
# While waiting for a replacement to serve, how often to re-check whether we should give up.
_RECHECK_SECONDS = 0.5

_PIPE_ERRORS = (OSError, EOFError, pickle.UnpicklingError)


class SupervisedServer(Server):
    """A ``Server`` that reports to its supervisor: when it serves, from which loop, and stops accepting."""

    def __init__(self, config: Config, on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        #: The running event loop while serving (None before startup and from shutdown on).
        self.serving_loop: asyncio.AbstractEventLoop | None = None
        self._accepting = True

    async def startup(self, sockets: list[socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.serving_loop = asyncio.get_running_loop()
            if self._on_ready is not None:
                self._on_ready()

    @property
    def accepting(self) -> bool:
        # A worker the supervisor retires stops accepting first: its shutdown delay is skipped.
        return self._accepting

    async def on_tick(self, counter: int) -> bool:
        should_exit = await super().on_tick(counter)
        if should_exit and self._accepting:
            # Leaving on our own (request limit, signal): hand new connections to the
            # other workers first, as when the supervisor retires us.
            await self.stop_accepting()
        return should_exit

    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        # From here on a thread answers health checks: the supervisor is not waiting on our loop.
        self.serving_loop = None
        await super().shutdown(sockets=sockets)

    async def stop_accepting(self) -> None:
        """Stop accepting connections; those already accepted keep being served."""
        self._accepting = False
        loop = asyncio.get_running_loop()
        # Not server.close() yet: asyncio sets up an accepted connection in a later loop
        # iteration, and if the server was closed in between, the connection is dropped
        # (Server._attach asserts). Unregistering the listeners stops new accepts only.
        for server in self.servers:
            for sock in server.sockets:
                try:
                    loop.remove_reader(sock.fileno())
                except (NotImplementedError, ValueError, OSError):
                    pass  # a loop without readers (proactor): close() below is all we can do
        await _let_loop_run(_SETTLE_ITERATIONS)  # connections accepted just now get attached
        for server in self.servers:
            server.close()
        # A client that connected a moment ago may still be sending its request: read it,
        # so the graceful shutdown that follows sees the connection busy, not idle.
        await asyncio.sleep(_SETTLE_SECONDS)
        await _let_loop_run(_SETTLE_ITERATIONS)


class Process:
    """A worker process serving ``config`` on the shared ``sockets``, with its health pipe."""

    def __init__(self, config: Config, sockets: list[socket], number: int | None = None) -> None:
        self.config = config
        #: The worker's slot, counted from 1, for its process title (None: no title).
        self.number = number
        self._server: SupervisedServer | None = None
        self.parent_conn, self.child_conn = Pipe()
        #: Set when the worker announced it serves (supervisor side).
        self.announced_ready = False
        self._ping_sent_at: float | None = None
        # In the worker, replies come from the health thread and from the event loop.
        self._send_lock = threading.Lock()
        self._pipe_lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.process = get_subprocess(config, self.target, sockets)

    # ------------------------------------------------------------ pickling into the worker

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        # The worker must not hold the supervisor's end: when the supervisor dies, the
        # pipe then breaks and the worker notices. Locks and tasks do not pickle.
        for name in ("process", "parent_conn", "_send_lock", "_pipe_lock", "_server", "_tasks"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._server = None
        self._send_lock = threading.Lock()
        self._pipe_lock = threading.Lock()
        self._tasks = set()

    # ------------------------------------------------------------ supervisor side

    def start(self) -> None:
        self.process.start()
        # The worker has its own copy now; ours would keep the pipe open after the worker died.
        self.child_conn.close()

    def ping(self, timeout: float = 5) -> bool:
        """True if the worker answers a health check within ``timeout`` seconds."""
        return self._healthcheck(timeout) is not None

    def is_ready(self, timeout: float = 5) -> bool:
        """True if the worker answers within ``timeout`` seconds and its server is serving."""
        return self._healthcheck(timeout) is True

    def is_alive(self, timeout: float = 5) -> bool:
        """True if the process runs and answers a health check within ``timeout`` seconds."""
        return self.process.is_alive() and self.ping(timeout)

    def check_health(self, timeout: float) -> bool:
        """Without blocking: False once a ping has gone unanswered for more than ``timeout`` seconds.

        Sends a new ping whenever the previous one was answered, so calling this
        regularly keeps one ping in flight per worker.
        """
        try:
            self._receive(0, _nothing)
            if self._ping_sent_at is None:
                self.parent_conn.send(PING)
                self._ping_sent_at = time.monotonic()
                return True
            return time.monotonic() - self._ping_sent_at <= timeout
        except _PIPE_ERRORS:
            return False

    def wait_until_ready(self, timeout: float, should_exit: threading.Event | None = None) -> bool:
        """True once the worker serves; False if it exits, ``should_exit`` is set or ``timeout`` passes."""
        return self.wait_ready(timeout, should_exit.is_set if should_exit is not None else _nothing)

    def wait_ready(self, timeout: float, give_up: Callable[[], bool]) -> bool:
        """:meth:`wait_until_ready` with any "give up now" test instead of an event."""
        deadline = time.monotonic() + timeout
        while not give_up() and self.process.is_alive():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.is_ready(timeout=min(remaining, 1.0)):
                return True
            # Not serving yet: sleep until it says it is (or exits), re-checking give_up now and then.
            try:
                wait([self.parent_conn, self.process.sentinel], timeout=min(remaining, _RECHECK_SECONDS))
                self._receive(0, _nothing)
            except _PIPE_ERRORS:
                return False
        return False

    def has_served(self) -> bool:
        """Whether the worker announced that it serves, reading what it sent before it exited."""
        try:
            self._receive(0, _nothing)
        except (*_PIPE_ERRORS, ValueError):  # ValueError: our end is closed already
            pass
        return self.announced_ready

    def stop_accepting(self, timeout: float) -> bool:
        """Ask the worker to close its listeners; True once it confirms within ``timeout`` seconds."""
        try:
            self._receive(0, _nothing)
            self.parent_conn.send(STOP_ACCEPTING)
            return self._receive(timeout, lambda message: message == STOPPED_ACCEPTING) is not None
        except _PIPE_ERRORS:
            return False

    def terminate(self) -> None:
        """Ask the worker to shut down gracefully (SIGTERM; CTRL_BREAK on Windows)."""
        if self.process.exitcode is None and self.process.pid is not None:
            if os.name == "nt":  # pragma: no cover
                os.kill(self.process.pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined,unused-ignore]
            else:
                os.kill(self.process.pid, signal.SIGTERM)
            logger.info("Terminated child process [%s]", self.process.pid)

    def kill(self) -> None:
        """Stop the worker at once (SIGKILL; TerminateProcess on Windows)."""
        if self.process.pid is not None:
            self.process.kill()
        self._close_pipe()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to exit, at most ``timeout`` seconds when given."""
        logger.info("Waiting for child process [%s]", self.process.pid)
        if self.process.pid is not None:
            self.process.join(timeout)

    def retire(self) -> None:
        """Start taking the worker out of service without dropping a request it accepted.

        It stops accepting (connections it has keep being served), then gets
        SIGTERM: its graceful shutdown finishes the requests in flight. The
        caller waits for the exit (:meth:`join`).
        """
        self.stop_accepting(self.config.timeout_worker_healthcheck)
        self.terminate()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def _healthcheck(self, timeout: float) -> bool | None:
        """Ping and wait up to ``timeout`` seconds: the worker's "serving" flag, or None without answer."""
        try:
            self._receive(0, _nothing)  # stale answers must not pass for this one
            self.parent_conn.send(PING)
            reply = self._receive(timeout, lambda message: isinstance(message, bool))
        except _PIPE_ERRORS:
            return None
        return reply if isinstance(reply, bool) else None

    def _receive(self, timeout: float, wanted: Callable[[object], bool]) -> object | None:
        """Read messages for up to ``timeout`` seconds until a ``wanted`` one; note the others."""
        deadline = time.monotonic() + timeout
        while self.parent_conn.poll(max(0.0, deadline - time.monotonic())):
            message: object = self.parent_conn.recv()
            if message == READY:
                self.announced_ready = True
            elif isinstance(message, bool):
                self._ping_sent_at = None
            if wanted(message):
                return message
        return None

    def _close_pipe(self) -> None:
        # Two threads may stop the same worker (a supervisor thread and its owner): closing
        # a descriptor twice could close another file that reused its number.
        with self._pipe_lock:
            self.parent_conn.close()
            self.child_conn.close()

    # ------------------------------------------------------------ worker side

    @property
    def server(self) -> SupervisedServer:
        """The worker's server (created on first use, in the worker process)."""
        if self._server is None:
            self._server = SupervisedServer(self.config, on_ready=self._announce_ready)
        return self._server

    def target(self, sockets: list[socket] | None = None) -> None:  # pragma: no cover (runs in the worker)
        """The worker's main: answer the supervisor from a thread, serve until told to stop."""
        if os.name == "nt":
            # Windows has no SIGTERM to send: the supervisor sends CTRL_BREAK, we treat it as SIGTERM.
            signal.signal(
                signal.SIGBREAK,  # type: ignore[attr-defined,unused-ignore]
                lambda sig, frame: signal.raise_signal(signal.SIGTERM),
            )
        if self.number is not None:
            set_process_title(worker_title(self.number))
        threading.Thread(target=self.always_pong, name="uvicorn-healthcheck", daemon=True).start()
        self.server.run(sockets)

    def pong(self) -> None:
        """Receive one message from the supervisor and answer it."""
        message = self.child_conn.recv()
        if message == STOP_ACCEPTING:
            self._stop_accepting()
        else:
            self._answer_ping()

    def always_pong(self) -> None:
        """Answer the supervisor until the pipe breaks; then shut down, as the supervisor is gone."""
        while True:
            try:
                self.pong()
            except _PIPE_ERRORS:
                if not self.child_conn.closed:
                    logger.warning("Lost the connection to the supervisor process; shutting down.")
                    self.server.should_exit = True
                return

    def _answer_ping(self) -> None:
        if not self._call_in_serving_loop(self._send_started):
            self._send_started()  # not serving (yet, or any more): answer from here

    def _send_started(self) -> None:
        self._send(self.server.started)

    def _announce_ready(self) -> None:
        self._send(READY)

    def _stop_accepting(self) -> None:
        if not self._call_in_serving_loop(self._start_stop_accepting):
            self._send(STOPPED_ACCEPTING)  # not serving: nothing to stop

    def _call_in_serving_loop(self, callback: Callable[[], None]) -> bool:
        """Have the server's event loop run ``callback``; False when no loop is serving to take it."""
        loop = self.server.serving_loop
        if loop is None:
            return False
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:
            return False  # the loop closed after shutdown began
        return True

    def _start_stop_accepting(self) -> None:
        # Runs in the event loop.
        task = asyncio.get_running_loop().create_task(self.server.stop_accepting())
        self._tasks.add(task)  # the loop only keeps a weak reference to tasks
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._send(STOPPED_ACCEPTING))

    def _send(self, message: object) -> None:
        with self._send_lock:
            try:
                self.child_conn.send(message)
            except _PIPE_ERRORS:
                pass  # the supervisor is gone; the health thread notices and shuts us down


async def _let_loop_run(iterations: int) -> None:
    for _ in range(iterations):
        await asyncio.sleep(0)


def stop_timeout(config: Config) -> float | None:
    """How long a supervisor waits for a worker told to stop before killing it (None: no limit).

    Unlimited without ``--timeout-graceful-shutdown``, as a single server would
    wait. With it, the worker serves on for ``--shutdown-delay``, cancels its
    requests that many seconds later, then runs the lifespan shutdown: the health
    check timeout (or ``--timeout-lifespan-shutdown``, if longer) is its allowance for that.
    """
    if config.timeout_graceful_shutdown is None:
        return None
    lifespan_allowance = max(config.timeout_worker_healthcheck, config.timeout_lifespan_shutdown or 0)
    return config.shutdown_delay + config.timeout_graceful_shutdown + lifespan_allowance


def _nothing(*_: object) -> bool:
    return False
