"""How a server stops serving without losing a request: the shutdown delay, the drain, the waits.

1. **Told to stop** (SIGTERM/SIGINT, ``should_exit``): the server is *draining*
   from then on (``ServerState.draining``, for readiness checks), and with
   ``shutdown_delay`` it keeps serving that long first, so load balancers stop
   sending it new clients. A server that has already stopped accepting (a
   worker being retired) or is leaving on its own (request, memory or lifetime
   limit) has nobody to warn and skips the delay.
2. **The drain**: the listeners close and every connection is asked to
   :meth:`~uvicorn.protocols.contract.ServedConnection.drain`: each request the
   clients have sent is answered (the last with ``connection: close``, or a
   GOAWAY on HTTP/2), idle keep-alive connections close at their keep-alive
   timeout, WebSockets get 1012 (or, with ``timeout_graceful_shutdown``, 1001
   shortly before it ends). Under ``--reload`` (development) connections are
   shut down as upstream does it: idle ones at once.
3. **The waits** for connections and then tasks are woken by the events
   themselves (the connection set emptying, tasks finishing, a second Ctrl+C),
   not by polling; ``timeout_graceful_shutdown`` bounds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ServedConnection

__all__ = ["ConnectionSet", "ShutdownDelay", "drain_connections", "first_of", "wait_for_tasks"]


class ConnectionSet(set):  # type: ignore[type-arg]  # set[ServedConnection], typed where it is used
    """The server's open connections: a set that wakes whoever waits for it to empty.

    Protocols add and discard themselves (``ProtocolServerState.connections``),
    once per connection, never per request. Once the server drains, a protocol
    that joins (one a connection hands over to: after ALPN or the HTTP/2 preface,
    a WebSocket or h2c upgrade) is told to drain as soon as it is set up.
    """

    __slots__ = ("_drain_newcomers", "_emptied")

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._emptied: asyncio.Event | None = None
        self._drain_newcomers: Callable[[Any], None] | None = None

    def add(self, item: Any) -> None:
        super().add(item)
        if self._drain_newcomers is not None:
            # Called from the protocol's connection_made: let it finish setting up first.
            asyncio.get_running_loop().call_soon(self._drain_newcomers, item)

    def drain_newcomers(self, grace: float | None, at_once: bool) -> None:
        """From now on, tell every protocol that joins to drain (see :func:`drain_connections`)."""

        def drain_newcomer(connection: Any) -> None:
            if connection in self:  # not gone already
                drain_connections([connection], grace, at_once)

        self._drain_newcomers = drain_newcomer

    def discard(self, item: Any) -> None:
        super().discard(item)
        if not self and self._emptied is not None:
            self._emptied.set()

    def remove(self, item: Any) -> None:
        super().remove(item)
        if not self and self._emptied is not None:
            self._emptied.set()

    async def wait_empty(self) -> None:
        """Return once the set is empty."""
        while self:
            self._emptied = asyncio.Event()
            try:
                await self._emptied.wait()
            finally:
                self._emptied = None


class ShutdownDelay:
    """``shutdown_delay``: the seconds a server told to stop keeps serving before it drains."""

    __slots__ = ("_ends_at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at: float | None = None

    def over(self, now: float, skip: bool) -> bool:
        """Called on each tick once the server was told to stop: True when the drain may begin."""
        if skip or not self.seconds:
            return True
        if self._ends_at is None:
            self._ends_at = now + self.seconds
        return now >= self._ends_at


def drain_connections(connections: Iterable[ServedConnection], grace: float | None, at_once: bool) -> None:
    """Ask every connection to drain (``grace``: the seconds the drain may take), or to shut down now."""
    if isinstance(connections, ConnectionSet):
        connections.drain_newcomers(grace, at_once)
    for connection in list(connections):
        drain: Callable[[float | None], None] | None = getattr(connection, "drain", None)
        if drain is None or at_once:
            connection.shutdown()  # a protocol class of its own, or --reload: upstream's way
        else:
            drain(grace)


async def first_of(awaitable: Awaitable[Any], interrupt: asyncio.Future[Any]) -> None:
    """Wait for ``awaitable``, or less if ``interrupt`` completes first (the other is then cancelled)."""
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({task, interrupt}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        task.cancel()


async def wait_for_tasks(tasks: set[asyncio.Task[None]], interrupt: asyncio.Future[Any]) -> None:
    """Wait until ``tasks`` (a set their tasks leave when done) is empty, or ``interrupt`` completes."""
    while tasks and not interrupt.done():
        await first_of(asyncio.wait(set(tasks)), interrupt)
