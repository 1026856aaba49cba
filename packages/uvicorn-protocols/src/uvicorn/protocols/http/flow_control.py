"""Back-pressure between the socket and the app, in both directions.

Reading: when the app lets request bodies pile up beyond ``HIGH_WATER_LIMIT`` the
connection stops reading from the socket until the app catches up. Writing: when
the transport's buffer is full, ``send()`` waits in :meth:`FlowControl.drain`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from uvicorn.protocols.http.response_head import error_messages

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGIReceiveCallable, ASGISendCallable, Scope

#: Buffered request body bytes above which the connection stops reading.
HIGH_WATER_LIMIT = 65536


class FlowControl:
    """Pause/resume state of one connection's transport."""

    __slots__ = ("_is_writable_event", "_transport", "read_paused", "write_paused")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.read_paused = False
        self.write_paused = False
        # Made at the first pause: an Event (with its deque of waiters) is about 1 KiB,
        # too much to keep on every idle connection for a pause that may never come.
        self._is_writable_event: asyncio.Event | None = None

    async def drain(self) -> None:
        """Wait until the transport accepts writes again (or the connection is lost)."""
        event = self._is_writable_event
        if event is not None:
            await event.wait()

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            self._transport.resume_reading()

    def pause_writing(self) -> None:
        if not self.write_paused:
            self.write_paused = True
            if self._is_writable_event is None:
                self._is_writable_event = asyncio.Event()
            else:
                self._is_writable_event.clear()

    def resume_writing(self) -> None:
        if self.write_paused:
            self.write_paused = False
            self._is_writable_event.set()  # type: ignore[union-attr]  # made by pause_writing


async def service_unavailable(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """The app run instead of the real one when ``limit_concurrency`` is exceeded."""
    start, body = error_messages(503, "Service Unavailable")
    await send(start)
    await send(body)
