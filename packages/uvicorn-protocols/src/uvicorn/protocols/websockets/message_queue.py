"""The events waiting for an app's ``receive()``, bounded by ``ws_max_queue``.

The queue does not stop the socket itself: it reports when it becomes full (at
``ws_max_queue`` events) and when the app has drained it to half that, and the
session pauses or resumes reading. The half-way mark keeps a busy connection
from pausing and resuming on every single message.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["MessageQueue"]


class MessageQueue:
    """A FIFO of ASGI receive events with one waiting reader and a once-only disconnect."""

    __slots__ = (
        "_events",
        "_loop",
        "_low_water",
        "_on_full_changed",
        "_waiter",
        "disconnect",
        "full",
        "max_queue",
    )

    def __init__(self, max_queue: int, on_full_changed: Callable[[], None]) -> None:
        self.max_queue = max(1, max_queue)
        self._low_water = self.max_queue // 2
        self._on_full_changed = on_full_changed
        self._events: deque[dict[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the app's loop, from the first wait
        #: The ``websocket.disconnect`` event, once queued; later gets return copies of it.
        self.disconnect: dict[str, Any] | None = None
        #: True from ``max_queue`` queued events until the app has taken half of them.
        self.full = False

    def put_connect(self) -> None:
        """Queue ``websocket.connect``, which never fills the queue.

        It is no message from the peer. Counted, with ``ws_max_queue`` 1 it paused
        reading before the connection even had a transport (every connection failed).
        """
        self._events.append({"type": "websocket.connect"})
        self._wake()

    def put(self, event: dict[str, Any]) -> None:
        events = self._events
        events.append(event)
        self._wake()
        if len(events) >= self.max_queue and not self.full:
            self.full = True
            self._on_full_changed()

    def put_disconnect(self, code: int, reason: str | None) -> None:
        """Queue the disconnect event, unless one is queued already (the first reason wins)."""
        if self.disconnect is not None:
            return
        # int(): libraries hand out their own IntEnum members; the app gets a plain code.
        event: dict[str, Any] = {"type": "websocket.disconnect", "code": int(code)}
        if reason is not None:
            event["reason"] = reason
        self.disconnect = event
        self._events.append(event)
        self._wake()

    def stop_counting(self) -> None:
        """Never report full again: no more events will be queued, and reading must go on."""
        self.max_queue = 1 << 62
        if self.full:
            self.full = False
            self._on_full_changed()

    def __len__(self) -> int:
        return len(self._events)

    async def get(self) -> dict[str, Any]:
        events = self._events
        while not events:
            if self.disconnect is not None:
                return self.disconnect.copy()  # the app asked again after the disconnect
            waiter = self._waiter
            if waiter is None or waiter.done():
                loop = self._loop
                if loop is None:
                    # Looked up once per connection: asyncio.get_running_loop() makes a
                    # getpid() system call each time, which a small message would feel.
                    loop = self._loop = asyncio.get_running_loop()
                waiter = self._waiter = loop.create_future()
            await waiter
        event = events.popleft()
        if self.full and len(events) <= self._low_water:
            self.full = False
            self._on_full_changed()
        return event

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
