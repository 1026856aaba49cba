"""What a WebSocket session runs over: the carrier interface.

A :class:`~uvicorn.protocols.websockets.session.WebSocketSession` does not know
whether its bytes travel on an HTTP/1.1 connection after a ``101 Switching
Protocols`` (RFC 6455) or on an HTTP/2 stream opened by an extended CONNECT and
answered with ``200`` (RFC 8441). What differs lives behind :class:`Carrier`:

==================== ====================================== =======================================
                     HTTP/1.1 (:mod:`.http1`)                HTTP/2 stream (RFC 8441)
==================== ====================================== =======================================
request check        :func:`.handshake.check_http1_request`  :func:`.handshake.check_extended_connect`
accept               ``101``, Upgrade, Connection,           HEADERS ``:status 200`` (no key/accept)
                     ``Sec-WebSocket-Accept``
refusal / denial     an HTTP/1.1 response, then close        HEADERS (+ DATA), END_STREAM
``write``            ``transport.write``                     DATA frames on the stream
reading flow         ``pause_reading``/``resume_reading``    stop/resume granting WINDOW_UPDATE
``close``            close the TCP connection                END_STREAM (or RST_STREAM)
==================== ====================================== =======================================

A carrier drives its session through five calls:

- ``session.start(request)`` with a :class:`~.handshake.HandshakeRequest` it has
  checked (``check_*`` raised :class:`~.handshake.HandshakeError`? then
  ``session.refuse(error)`` answers it instead);
- ``session.receive_data(data)`` with every byte of the WebSocket stream that
  follows the request (held by the session until the app accepts);
- ``session.pause_writing()`` / ``session.resume_writing()`` when its send
  window or buffer fills and drains (``send()`` waits meanwhile);
- ``session.connection_lost()`` when the connection or stream is gone;
- ``session.shutdown()`` on graceful server shutdown.

The session calls the carrier back only through the members of :class:`Carrier`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = ["Carrier"]


class Carrier(Protocol):
    """The connection or stream a WebSocket session runs over."""

    #: ``"ws"`` or ``"wss"``, and the addresses, for the ASGI scope.
    scheme: str
    server: tuple[str, int | None] | None
    client: tuple[str, int] | None
    #: The connection's ``tls`` scope extension (``uvicorn.protocols.tls_info``), None without TLS.
    tls: dict[str, Any] | None

    #: Writes bytes of the WebSocket stream (frames). An attribute, so a carrier can
    #: hand over its transport's own ``write`` and cost the hot path no extra call.
    write: Callable[[bytes], None]

    def send_accept(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Accept the WebSocket: ``headers`` are the library's (extensions), the subprotocol,
        the server's defaults and the app's, in that order; the carrier adds its own."""

    def send_error(self, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        """A complete plain-text response refusing the handshake (400, 403, 426, 500...)."""

    def start_response(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """The app's denial response begins (``websocket.http.response.start``).

        Raises ``RuntimeError`` for a status or header that cannot be sent. The head
        may wait for the first body message (so a failure can still become a 500).
        """

    def send_response_body(self, body: bytes, more_body: bool) -> None:
        """One ``websocket.http.response.body`` message of the denial response."""

    @property
    def response_started(self) -> bool:
        """True once bytes of a denial response may have reached the client."""

    def is_closing(self) -> bool:
        """True once the carrier is closed or closing: nothing written reaches the peer."""

    def pause_reading(self) -> None:
        """Stop delivering bytes (the app is behind, or the peer does not read)."""

    def resume_reading(self) -> None:
        """Deliver bytes again."""

    def close(self) -> None:
        """End the WebSocket now (what was written still goes out)."""

    def log_prefix(self) -> str:
        """``"host:port - "`` of the client for log lines, or ``""``."""
