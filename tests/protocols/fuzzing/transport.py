"""The transport stand-in a protocol is fed through, and the client on the other side.

:class:`Connection` plays both ends of one TCP connection for a protocol
object: it is the ``asyncio.Transport`` the protocol writes to (recording every
byte), and it acts as the client (sending chunks, half-closing, going away),
calling the protocol's ``asyncio.Protocol`` methods from loop callbacks, as a
real transport does. It keeps the rules a real transport keeps: no
``data_received`` while reading is paused or after ``close()``, a protocol that
``eof_received`` does not keep open is closed, ``connection_lost`` exactly once,
``write()`` after ``write_eof()`` raises.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.protocols.fuzzing.loop import FuzzLoop

__all__ = ["Connection"]

_EXTRA_INFO = {
    "peername": ("127.0.0.1", 50000),
    "sockname": ("127.0.0.1", 8000),
}


class Connection(asyncio.Transport):
    """One connection: the protocol's transport and its client, on a :class:`FuzzLoop`."""

    def __init__(self, loop: FuzzLoop, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.loop = loop
        self.protocol = protocol
        self.written = bytearray()
        self.written_after_close = bytearray()
        self.reading = True
        self.closing = False  # the server closed (or is closing) the connection
        self.eof_written = False  # the server half-closed
        self.lost = False
        self.stalled = False  # the client had more to send but the server never read it
        loop.call(protocol.connection_made, self)

    # ------------------------------------------------------------ the transport the protocol sees

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self.closing:
            self.written_after_close += data
        else:
            self.written += data

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def write_eof(self) -> None:
        if not self.closing:
            self.eof_written = True

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.loop.call_soon(self._lose, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading and not self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return _EXTRA_INFO.get(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.protocol

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    # ------------------------------------------------------------ the client

    def send(self, chunk: bytes) -> bool:
        """Deliver ``chunk`` once the server reads; False if it never will (closed or stalled)."""
        self.loop.run_until_idle()
        if self.closing or self.lost:
            return False
        if not self.reading:
            self.stalled = True
            return False
        self.loop.call(self._data_received, chunk)
        return True

    def half_close(self) -> None:
        """The client shuts down its sending side (the server's ``eof_received``)."""
        self.loop.run_until_idle()
        if not self.closing and not self.lost:
            self.loop.call(self._eof_received)

    def go_away(self) -> None:
        """The client closes its socket: the server's ``connection_lost`` (if not closed already)."""
        self.loop.call(self._lose, None)

    def _data_received(self, chunk: bytes) -> None:
        if not self.closing and not self.lost:
            self.protocol.data_received(chunk)

    def _eof_received(self) -> None:
        if not self.protocol.eof_received():
            self.close()

    def _lose(self, exc: Exception | None) -> None:
        if not self.lost:
            self.lost = True
            self.closing = True
            self.protocol.connection_lost(exc)
