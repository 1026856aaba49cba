"""Back-pressure between the socket and the app, in both directions.

Reading: when the app lets request bodies pile up beyond ``HIGH_WATER_LIMIT`` the
connection stops reading from the socket until the app catches up. Writing: when
the transport's buffer is full, ``send()`` waits in :meth:`FlowControl.drain`.

A client that stops reading must not hold the connection (and what is buffered
for it) for good: while writing is paused, or once the connection is closing with
bytes still unsent, ``timeout_response_send`` bounds how long the buffered output
may go without moving; then the transport is aborted (``close()`` alone would wait
for the client to read).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from uvicorn.protocols.http.exchange import count_rejection
from uvicorn.protocols.http.response_head import error_messages

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
    from uvicorn.protocols.contract import ProtocolServerState

#: Buffered request body bytes above which the connection stops reading.
HIGH_WATER_LIMIT = 65536


class FlowControl:
    """Pause/resume state of one connection's transport.

    With a ``loop`` and ``send_timeout``, output that stops moving for that many
    seconds (see the module's docstring) aborts the transport.
    """

    __slots__ = (
        "_buffered",
        "_is_writable_event",
        "_loop",
        "_send_timeout",
        "_stall_timer",
        "_transport",
        "_unsent",
        "read_paused",
        "write_paused",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop | None = None,
        send_timeout: float | None = None,
    ) -> None:
        self._transport = transport
        self.read_paused = False
        self.write_paused = False
        # Made at the first pause: an Event (with its deque of waiters) is about 1 KiB,
        # too much to keep on every idle connection for a pause that may never come.
        self._is_writable_event: asyncio.Event | None = None
        self._loop = loop
        self._send_timeout = send_timeout
        self._stall_timer: asyncio.TimerHandle | None = None
        self._unsent = 0  # the transport's buffer when the stall timer was armed
        # A stand-in transport (upstream's tests) may not report its buffer: no stall guard then.
        self._buffered: Callable[[], int] | None = getattr(transport, "get_write_buffer_size", None)

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
            self._watch_output()

    def resume_writing(self) -> None:
        if self.write_paused:
            self.write_paused = False
            self._is_writable_event.set()  # type: ignore[union-attr]  # made by pause_writing
            if self._stall_timer is not None and not self._transport.is_closing():
                self._stall_timer.cancel()
                self._stall_timer = None

    def close(self) -> None:
        """Close the transport once its buffer is written, which must then keep moving."""
        self._transport.close()
        if self._stall_timer is None and self._unsent_bytes():
            self._watch_output()

    def stop(self) -> None:
        """The connection is gone: no more watching."""
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _watch_output(self) -> None:
        if self._loop is None or self._send_timeout is None or self._buffered is None:
            return
        if self._stall_timer is not None:
            self._stall_timer.cancel()
        self._unsent = self._unsent_bytes()
        self._stall_timer = self._loop.call_later(self._send_timeout, self._check_output)

    def _unsent_bytes(self) -> int:
        if self._buffered is None:
            return 0
        try:
            return self._buffered()
        except NotImplementedError:  # a transport that cannot tell (asyncio.Transport's default)
            self._buffered = None
            return 0

    def _check_output(self) -> None:
        self._stall_timer = None
        unsent = self._unsent_bytes()
        if not unsent:
            return
        if unsent < self._unsent:
            self._watch_output()  # the client read some: it is slow, not stuck
            return
        logging.getLogger("uvicorn.error").warning(
            "Closing a connection whose client read nothing of %d buffered bytes for %ss "
            "(timeout_response_send).",
            unsent,
            self._send_timeout,
        )
        self._transport.abort()


def within_concurrency(
    app: ASGI3Application, limit: int | None, server_state: ProtocolServerState, logger: logging.Logger
) -> ASGI3Application:
    """``app``, or :func:`service_unavailable` once ``limit_concurrency`` connections or tasks are active."""
    if limit is not None and (len(server_state.connections) >= limit or len(server_state.tasks) >= limit):
        logger.warning("Exceeded concurrency limit.")
        count_rejection(server_state, 503)
        return service_unavailable
    return app


async def service_unavailable(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """The app run instead of the real one when ``limit_concurrency`` is exceeded."""
    start, body = error_messages(503, "Service Unavailable")
    await send(start)
    await send(body)
