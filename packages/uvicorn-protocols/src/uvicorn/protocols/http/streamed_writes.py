"""The writes of a streamed response body: the app's pieces leave together, in few writes.

An app streaming a body (a file in 64 KiB chunks, say) would cost one socket
write per piece; on loopback and fast links the kernel's per-write work then
outweighs the copying. Pieces sent within one turn of the event loop are held
(up to ``FLUSH_SIZE`` bytes) and written together with ``writelines``, without
joining them, when the app's task yields or the held bytes reach the limit. A
piece is never held past the app's next wait, so streams (server-sent events,
progress lines) reach the client as promptly as before.
"""

from __future__ import annotations

import asyncio

__all__ = ["FLUSH_SIZE", "StreamedWrites"]

#: Held bytes that are written at once, without waiting for the app to yield.
FLUSH_SIZE = 1 << 19


class StreamedWrites:
    """Holds the pieces of one streamed response until the app yields or enough have come."""

    __slots__ = ("_call_soon", "_pieces", "_scheduled", "_size", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        # A stand-in loop (tests of protocols in isolation) may lack call_soon:
        # then every piece is written at once, as it comes.
        self._call_soon = getattr(loop, "call_soon", None)
        self._pieces: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes) -> None:
        """Hold ``data`` for the next write."""
        self._pieces.append(data)
        self._size += len(data)
        if self._size >= FLUSH_SIZE or self._call_soon is None:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._call_soon(self.flush)  # runs once the app's task yields

    def flush(self) -> None:
        """Write what is held (dropped if the connection is closing)."""
        self._scheduled = False
        pieces = self._pieces
        if not pieces:
            return
        self._pieces = []
        self._size = 0
        if self._transport.is_closing():
            return
        if len(pieces) == 1:
            self._transport.write(pieces[0])
        else:
            self._transport.writelines(pieces)
