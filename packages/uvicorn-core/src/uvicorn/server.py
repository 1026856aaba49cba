"""``Server``: run a loaded ``Config`` — lifespan, listening sockets, the once-a-second tick, shutdown.

The life of a server: load the config, start the lifespan, listen, tick every
0.1 s until asked to exit (signal, ``should_exit``, request limit), serve on for
``shutdown_delay`` if asked to exit, then stop accepting, drain the connections
(bounded by ``timeout_graceful_shutdown``) and run the lifespan shutdown; see
``_drain.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from email.utils import formatdate
from types import FrameType
from typing import TYPE_CHECKING, Any

from uvicorn._ansi import style
from uvicorn._binding import (
    BindFailure,
    Listener,
    adopt_fd,
    bind_error_hint,
    close_listeners,
    log_listeners,
    log_running_on,
    open_listeners,
)
from uvicorn._compat import asyncio_run
from uvicorn._drain import ConnectionSet, ShutdownDelay, drain_connections, first_of, wait_for_tasks
from uvicorn._recycling import RecyclingLimits
from uvicorn._startup import STARTUP_FAILURE
from uvicorn._systemd import SystemdNotifier
from uvicorn._telemetry import ServerTelemetry
from uvicorn.protocols.contract import ProtocolConfig, ProtocolObserver, ProtocolServerState, ServedConnection

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = ["HANDLED_SIGNALS", "Server", "ServerState"]

HANDLED_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT,  # Ctrl+C
    signal.SIGTERM,  # kill <pid>, container stop
)
if sys.platform == "win32":  # pragma: no cover
    HANDLED_SIGNALS += (signal.SIGBREAK,)  # Ctrl+Break

logger = logging.getLogger("uvicorn.error")

# main_loop wakes this often; the default headers and callback_notify run every _TICKS_PER_SECOND.
_TICK_SECONDS = 0.1
_TICKS_PER_SECOND = 10


class ServerState:
    """State shared by the server and every connection it serves (``ProtocolServerState``).

    ``default_headers`` is replaced by a new list once a second (never mutated),
    so a protocol may cache work keyed on the list's identity.
    """

    def __init__(self) -> None:
        self.total_requests = 0
        self.connections: set[ServedConnection] = ConnectionSet()
        self.tasks: set[asyncio.Task[None]] = set()
        self.default_headers: list[tuple[bytes, bytes]] = []
        #: True from the moment the server is told to stop (during ``shutdown_delay`` too) or
        #: leaves on its own: it is going away, so a readiness check should fail.
        self.draining = False
        #: The metrics the protocols report to (``--admin-port``); None: no calls at all.
        self.observer: ProtocolObserver | None = None


class Server:
    """Serves one ``Config`` in the current process: :meth:`run` (blocking) or ``await`` :meth:`serve`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.server_state = ServerState()

        self.started = False
        self.should_exit = False
        self._force_exit = False
        self._forced: asyncio.Future[None] | None = None  # completed by force_exit while draining
        self.last_notified = 0.0
        self._shutdown_delay = ShutdownDelay(config.shutdown_delay)

        self.servers: list[asyncio.Server] = []
        self._systemd = SystemdNotifier(None)  # see _serve
        self._recycling = RecyclingLimits(config)
        # The listeners this server bound itself (not handed over as ``sockets``).
        self._own_listeners: list[Listener] = []
        self._captured_signals: list[int] = []
        # Set once the server listens (after lifespan startup); tests await it instead of polling.
        self._startup_complete = asyncio.Event()
        # Set once the connections were told to drain; tests await it.
        self._drain_started = asyncio.Event()
        # --admin-port's metrics and health endpoints while serving (uvicorn._telemetry).
        self._telemetry: ServerTelemetry | None = None

    @property
    def force_exit(self) -> bool:
        """Stop without waiting for connections, tasks or the lifespan shutdown (a second Ctrl+C)."""
        return self._force_exit

    @force_exit.setter
    def force_exit(self, value: bool) -> None:
        self._force_exit = value
        forced = self._forced
        if value and forced is not None and not forced.done():
            # Often set from a signal handler: wake the loop, which may sleep in select().
            forced.get_loop().call_soon_threadsafe(_complete, forced)

    @property
    def draining(self) -> bool:
        """True once the server is going away (told to stop, in its shutdown delay, or draining)."""
        return self.server_state.draining

    @functools.cached_property
    def limit_max_requests(self) -> int | None:
        """``limit_max_requests`` plus a random jitter (drawn once), so workers do not restart together."""
        if self.config.limit_max_requests is None:
            return None
        return self.config.limit_max_requests + random.randint(0, self.config.limit_max_requests_jitter)

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until told to stop, in a new event loop from ``config.loop``."""
        loop_factory = self.config.get_loop_factory()  # may exit: do it before creating the coroutine
        return asyncio_run(self.serve(sockets=sockets), loop_factory=loop_factory)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve in the running event loop, handling SIGINT/SIGTERM when on the main thread."""
        with self.capture_signals():
            await self._serve(sockets)

    async def _serve(self, sockets: list[socket.socket] | None = None) -> None:
        process_id = os.getpid()
        config = self.config
        if not config.loaded:
            config.load()
        self.lifespan = config.lifespan_class(config)

        logger.info(
            "Started server process [%d]",
            process_id,
            extra={"color_message": "Started server process [" + style("%d", fg="cyan") + "]"},
        )
        # Read here, not in __init__: a Server pickled into a child process reads the child's.
        self._systemd = SystemdNotifier.from_environment()
        try:
            self._telemetry = ServerTelemetry.start(self)  # --admin-port; before the lifespan starts
            await self.startup(sockets=sockets)
            self._recycling = RecyclingLimits(config)  # the lifetime counts from here
            if self.started:
                self._systemd.ready(f"Serving (process {process_id})")
            if not self.should_exit:
                await self.main_loop()
            if self.started:
                await self.shutdown(sockets=sockets)
                logger.info(
                    "Finished server process [%d]",
                    process_id,
                    extra={"color_message": "Finished server process [" + style("%d", fg="cyan") + "]"},
                )
        finally:
            self._systemd.close()
            if self._telemetry is not None:
                self._telemetry.stop()

    # ------------------------------------------------------------ startup

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Run the lifespan startup, then listen on ``sockets``, ``fd``, ``uds`` or host/port.

        A failed lifespan startup or bind exits with ``STARTUP_FAILURE``.
        """
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)  # lifespan has logged why

        config = self.config
        # Connections accepted before the first tick must get the default headers too.
        self._refresh_default_headers()
        # Protocols take these keywords (docs/architecture.md); asyncio.Protocol's own type does not say so.
        protocol_class: Callable[..., asyncio.Protocol] = config.http_protocol_class
        # What the protocols may read of the config and the state (uvicorn.protocols.contract).
        protocol_config: ProtocolConfig = config
        server_state: ProtocolServerState = self.server_state
        create_protocol = functools.partial(
            protocol_class,
            config=protocol_config,
            server_state=server_state,
            app_state=self.lifespan.state,
        )
        loop = asyncio.get_running_loop()
        listen = functools.partial(
            loop.create_server, create_protocol, ssl=config.ssl, backlog=config.backlog
        )

        try:
            if sockets is not None:
                # Pre-bound sockets: from a supervisor (workers, reload), gunicorn or a test.
                self.servers = [await listen(sock=_shareable(sock, config)) for sock in sockets]
            elif config.fd is not None and not config.bind:
                self.servers = [await listen(sock=adopt_fd(config.fd))]
            elif config.uds is not None and not config.bind:
                self.servers = [await self._listen_unix(create_protocol, config.uds)]
            else:
                # TCP and every --bind address: bound the way the supervisors bind them, so
                # one process or many listen alike (``::`` serves IPv4 too, names resolve the same).
                self._own_listeners = open_listeners(config)
                bound = [sock for listener in self._own_listeners for sock in listener.sockets]
                self.servers = [await listen(sock=sock) for sock in bound]
        except (OSError, BindFailure) as exc:
            hint = bind_error_hint(exc) if isinstance(exc, OSError) else ""
            logger.error("%s%s", exc, hint)
            close_listeners(self._own_listeners)
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)

        if sockets is None:
            # With pre-bound sockets, whoever bound them (Config.bind_socket) logged the address.
            self._log_started_message([sock for server in self.servers for sock in server.sockets])
        self.started = True
        self._startup_complete.set()

    async def _listen_unix(self, create_protocol: Any, path: str) -> asyncio.Server:
        # Keep the permissions of a socket file that already exists; a new one is world-connectable.
        permissions = os.stat(path).st_mode if os.path.exists(path) else 0o666
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(
            create_protocol, path=path, ssl=self.config.ssl, backlog=self.config.backlog
        )
        os.chmod(path, permissions)
        return server

    def _log_started_message(self, listeners: Sequence[socket.socket]) -> None:
        config = self.config
        if self._own_listeners:
            log_listeners(self._own_listeners, config.ssl is not None)
        elif config.fd is not None:
            log_running_on("socket %s", listeners[0].getsockname())
        elif config.uds is not None:
            log_running_on("unix socket %s", config.uds)

    # ------------------------------------------------------------ running

    async def main_loop(self) -> None:
        """Tick every 0.1 s until :meth:`on_tick` says to exit."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000  # wrap once a day; only "every 10th" matters
            await asyncio.sleep(_TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    async def on_tick(self, counter: int) -> bool:
        """Once a second refresh the default headers and maybe notify; say whether to exit."""
        self._systemd.watchdog()  # the loop ticks: healthy
        if counter % _TICKS_PER_SECOND == 0:
            now = self._refresh_default_headers()
            callback = self.config.callback_notify
            if callback is not None and now - self.last_notified > self.config.timeout_notify:
                self.last_notified = now
                await callback()

        if self.should_exit:
            return self._stop_after_delay()
        max_requests = self.limit_max_requests
        if max_requests is not None and self.server_state.total_requests >= max_requests:
            logger.info("Maximum request limit of %d exceeded. Terminating process.", max_requests)
            return True
        # Memory and lifetime: once a second, the same way out as the request limit.
        return counter % _TICKS_PER_SECOND == 0 and self._recycling.active and self._recycling.exceeded()

    def _stop_after_delay(self) -> bool:
        """Told to stop: True once ``shutdown_delay`` is over (draining, hence not ready, from now)."""
        delay = self._shutdown_delay
        if not self.server_state.draining:
            self.server_state.draining = True
            if delay.seconds and self.accepting and not self.force_exit:
                logger.info("Shutdown requested: serving %s more seconds before draining.", delay.seconds)
        return delay.over(time.monotonic(), skip=self.force_exit or not self.accepting)

    @property
    def accepting(self) -> bool:
        """Whether the server takes new connections (a supervisor may have stopped that already)."""
        return True

    def _refresh_default_headers(self) -> float:
        now = time.time()
        date_header = [(b"date", formatdate(now, usegmt=True).encode())] if self.config.date_header else []
        # A new list, never an in-place change: protocols may cache on its identity.
        self.server_state.default_headers = date_header + self.config.encoded_headers
        return now

    # ------------------------------------------------------------ shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting, drain the connections and tasks (bounded), then run the lifespan shutdown."""
        logger.info("Shutting down")
        self.server_state.draining = True
        self._systemd.stopping()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        close_listeners(self._own_listeners)  # and remove the socket files we created

        # Requests sent are answered (the last one closes its connection), idle connections
        # close at their keep-alive timeout; with --reload idle ones close now (_drain.py).
        grace = self.config.timeout_graceful_shutdown
        drain_connections(self.server_state.connections, grace, at_once=self.config.reload)
        self._drain_started.set()
        # One tick's pause, as upstream: idle connections finish closing before we count
        # them, and a main loop still running (shutdown() called directly) gets its last tick.
        await asyncio.sleep(_TICK_SECONDS)

        try:
            await asyncio.wait_for(self._wait_tasks_to_complete(), timeout=grace)
        except asyncio.TimeoutError:
            logger.error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded", len(self.server_state.tasks)
            )
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")

        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _wait_tasks_to_complete(self) -> None:
        # Woken by the events themselves: the connection set emptying, tasks ending, and a
        # second Ctrl+C (force_exit), which must cut the wait short.
        state = self.server_state
        forced = self._forced = asyncio.get_running_loop().create_future()
        if self.force_exit:
            forced.set_result(None)
        try:
            if state.connections and not self.force_exit:
                logger.info("Waiting for connections to close. (CTRL+C to force quit)")
                await first_of(self._connections_closed(), forced)

            if state.tasks and not self.force_exit:
                logger.info("Waiting for background tasks to complete. (CTRL+C to force quit)")
                await wait_for_tasks(state.tasks, forced)
        finally:
            self._forced = None

        # From Python 3.12 on wait_closed() also waits for every connection to go away,
        # which a forced exit must not do.
        if not self.force_exit:
            for server in self.servers:
                await server.wait_closed()

    # ------------------------------------------------------------ signals

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Route SIGINT/SIGTERM to :meth:`handle_exit` while serving, then deliver them as usual.

        Only the main thread may install signal handlers; elsewhere (a server in a
        thread) this does nothing. ``signal.signal`` rather than the event loop's
        handlers, so the previous handlers can be put back. Once the server has
        stopped, each captured signal is raised again (last first) so the process
        reacts as it would have: SIGTERM terminates, SIGINT raises KeyboardInterrupt.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for captured in reversed(self._captured_signals):
            signal.raise_signal(captured)

    async def _connections_closed(self) -> None:
        connections = self.server_state.connections
        if isinstance(connections, ConnectionSet):
            await connections.wait_empty()
        while connections:  # a set put there by someone else: nothing tells us, so look again
            await asyncio.sleep(_TICK_SECONDS)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Signal handler: the first signal starts a graceful exit; Ctrl+C during it forces the exit."""
        self._captured_signals.append(sig)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def _shareable(sock: socket.socket, config: Config) -> socket.socket:
    """On Windows a socket inherited by several worker processes must be shared explicitly."""
    if sys.platform == "win32" and config.workers > 1:  # pragma: no cover
        return socket.fromshare(sock.share(os.getpid()))
    return sock


def _complete(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
