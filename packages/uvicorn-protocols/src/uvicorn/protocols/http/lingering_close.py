"""Lingering close (RFC 9112 9.6): the server's last answer reaches the client before the connection ends.

When the server closes a connection while the client may still be sending (the
body of a refused request, a request pipelined behind a ``connection: close``
response, the rest of a body the app never read), closing a TCP socket that has
unread bytes makes the kernel send a reset (RST) rather than a FIN, and a reset
can destroy the answer before the client has read it: the client sees
"connection reset" instead of the 400/408/413/431 or 500 it was sent.

So such a connection closes in two steps. Its transport goes to a
:class:`LingeringClose`, which half-closes the server's side once the answer is
flushed (``write_eof``: the client reads the answer, then the end of it), reads
and discards whatever the client still sends, and closes fully when the client
closes too, after :data:`LINGER_SECONDS`, or after :data:`LINGER_BYTES`,
whichever comes first. TLS has no half-close: there the discarding alone keeps
the client's bytes from turning into a reset, until the client closes or the
bound is reached.

A lingering connection serves nothing: it leaves the server's connection set, so
``limit_concurrency``, the open-connection metrics and a graceful shutdown (which
waits for connections) do not count it, and the protocol it belonged to sees
itself closed (it holds :data:`HANDED_OVER` in place of the transport) so that
nothing it still runs, an app finishing in the background or a timer, can write
to the transport or close it early. The protocol's ``connection_lost`` is called
when the transport finally closes, as for any other connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ServedConnection
    from uvicorn.protocols.http.connection import HTTPConnection
    from uvicorn.protocols.http.flow_control import FlowControl

__all__ = [
    "HANDED_OVER",
    "LINGER_BYTES",
    "LINGER_SECONDS",
    "LingeringClose",
    "close_after_answer",
    "close_lingering",
]

#: The longest a connection lingers: long enough for an answer to cross the network and
#: the client to react to it, short enough that a client that neither reads nor closes
#: holds a socket (and, on Python 3.12+, ``asyncio.Server.wait_closed`` at shutdown) only briefly.
LINGER_SECONDS = 2.0
#: The most the server reads (and discards) while lingering: what a client may still have in
#: flight when it learns of the answer; a client sending more is flooding, and is cut off.
LINGER_BYTES = 1 << 20


class _HandedOver(asyncio.Transport):
    """What a protocol holds once its transport lingers: a transport closed to it, that drops every call."""

    __slots__ = ()

    def is_closing(self) -> bool:
        return True

    def write(self, data: Any) -> None:
        pass

    def writelines(self, list_of_data: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


#: The one stand-in every lingering connection's protocol holds (it keeps no state).
HANDED_OVER: asyncio.Transport = _HandedOver()


class LingeringOwner(Protocol):
    """The protocol whose transport lingers (the HTTP/1.1 and HTTP/2 connections)."""

    transport: asyncio.Transport
    flow: FlowControl
    loop: asyncio.AbstractEventLoop
    connections: set[ServedConnection]

    def connection_lost(self, exc: Exception | None) -> None: ...


def close_lingering(owner: LingeringOwner, client_done: bool = False, unread: bool = True) -> bool:
    """Close ``owner``'s connection after its last answer, lingering unless the client is done sending.

    True if the transport went to a :class:`LingeringClose` (``owner.transport`` is then
    :data:`HANDED_OVER`); False if it was closed at once: the client had sent its end
    (``client_done``), the transport was closing already, or it is a stand-in that cannot
    tell whether it can half-close (upstream's protocol tests). ``unread``: the client is
    known to have more on its way (a body, a next request); without a half-close (TLS)
    only then is the close delayed, since a body without a length ends only with it.
    """
    transport = owner.transport
    if (
        client_done
        or transport.is_closing()
        or not hasattr(transport, "can_write_eof")
        or not (unread or transport.can_write_eof())
    ):
        owner.flow.close()
        return False
    owner.connections.discard(owner)  # a connection no longer being served
    owner.transport = HANDED_OVER
    LingeringClose(transport, owner.flow, owner.loop, owner.connection_lost)
    return True


def close_after_answer(conn: HTTPConnection, refused: bool = True) -> None:
    """Close an HTTP/1.1 connection after its last answer (a refusal, unless not ``refused``).

    A refused request's bytes may still be coming; after an app's response, only an
    unread body, a request read ahead or part of one tells so (what TLS goes by). A
    response cut short (refused while it was being written) has no answer to keep.
    """
    cycle = conn.cycle
    cut = cycle is not None and cycle.response_started and not cycle.response_complete
    unread = refused or conn.pipeline.reading is not None or bool(conn.pipeline) or conn._mid_head()
    if close_lingering(conn, conn._peer_eof or cut, unread):
        conn.writer.hand_over()  # an app finishing in the background writes nothing more


class LingeringClose(asyncio.Protocol):
    """Owns a transport from the server's last answer until the client closes, or the bounds say so."""

    __slots__ = ("_flow", "_left", "_lost", "_timer", "_transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        flow: FlowControl,
        loop: asyncio.AbstractEventLoop,
        lost: Callable[[Exception | None], None],
    ) -> None:
        self._transport = transport
        self._flow = flow  # closes with the answer still watched by timeout_response_send
        self._lost = lost
        self._left = LINGER_BYTES
        self._timer: asyncio.TimerHandle | None = loop.call_later(LINGER_SECONDS, self.close)
        transport.set_protocol(self)
        if transport.can_write_eof():
            try:
                transport.write_eof()  # the FIN follows the answer once it is flushed
            except OSError:  # the client is gone already (ENOTCONN): nothing to linger for
                self.close()
                return
        flow.resume_reading()  # reading may be paused (pipelining, back-pressure): unread bytes reset

    def data_received(self, data: bytes) -> None:
        self._left -= len(data)
        if self._left <= 0:
            self.close()

    def eof_received(self) -> bool:
        self.close()  # the client is done too: nothing left to reset the answer
        return True

    def pause_writing(self) -> None:
        self._flow.pause_writing()

    def resume_writing(self) -> None:
        self._flow.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._lost(exc)

    def close(self) -> None:
        """End the lingering: close once the answer is written (``FlowControl.close``)."""
        self._cancel_timer()
        self._flow.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
