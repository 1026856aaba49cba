"""WebSockets over an HTTP/1.1 connection: the carrier every ``--ws`` protocol class is.

:class:`WebSocketOverHTTP1` is an ``asyncio.Protocol`` that the HTTP protocol
hands a connection to after reading an upgrade request. It is the
:class:`~uvicorn.protocols.websockets.carrier.Carrier` of one
:class:`~uvicorn.protocols.websockets.session.WebSocketSession`, whose codec its
subclass picks (``websockets-sansio``, ``websockets``, ``wsproto``).

Two ways in:

- :meth:`WebSocketOverHTTP1.receive_upgrade`: the HTTP protocol's parsed request
  (method, target, version, headers) and the bytes that followed it; nothing is
  serialised or parsed again;
- ``data_received`` from the first byte, as any ``asyncio.Protocol`` (third-party
  code and upstream's tests feed the raw handshake request that way).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from uvicorn.protocols.http.response_head import STATUS_LINES, error_response
from uvicorn.protocols.tls_info import tls_extension
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.protocols.websockets.denial import DenialResponse
from uvicorn.protocols.websockets.handshake import (
    MAX_HEAD_SIZE,
    HandshakeError,
    HandshakeRequest,
    accept_key,
    check_http1_request,
    read_request,
)
from uvicorn.protocols.websockets.session import TRACE_LOG_LEVEL, WebSocketSession

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState
    from uvicorn.protocols.websockets.codec import FrameCodec

__all__ = ["WebSocketOverHTTP1"]

_SWITCHING = STATUS_LINES[101] + b"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: "


class WebSocketOverHTTP1(asyncio.Protocol):
    """A WebSocket on an HTTP/1.1 connection; subclasses name their codec in :meth:`make_codec`."""

    #: Builds the library codec for one connection from the config.
    make_codec: ClassVar[Any]

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.server_state = server_state
        self.connections = server_state.connections
        self.app_state = app_state
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "ws"
        self.tls: dict[str, Any] | None = None
        codec: FrameCodec = type(self).make_codec(config)
        self.session = WebSocketSession(config, server_state, app_state, self.loop, self, codec)
        self._head: bytes | None = b""  # the raw request head so far; None once the request is read
        self._key = b""
        self._denial: DenialResponse | None = None

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        self.write = self.transport.write
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.scheme = "wss" if is_ssl(self.transport) else "ws"
        if self.scheme == "wss":
            self.tls = tls_extension(self.transport, self.config.ssl_certfile)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection made", self.log_prefix())

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket connection lost", self.log_prefix())
        self.session.connection_lost()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        # The peer will send nothing more; returning None lets the transport close.
        return None

    def data_received(self, data: bytes) -> None:
        if self._head is None:
            self.session.receive_data(data)
            return
        head = self._head + data
        end = head.find(b"\r\n\r\n")
        if end == -1:
            if len(head) > MAX_HEAD_SIZE:
                self._head = None
                self.session.refuse(HandshakeError(431, "Request header fields too large.", unparseable=True))
            else:
                self._head = head
            return
        self._head = None
        try:
            request = read_request(head[: end + 4])
        except HandshakeError as error:
            self.session.refuse(error)
            return
        self._start(request, head[end + 4 :])

    def pause_writing(self) -> None:
        self.session.pause_writing()

    def resume_writing(self) -> None:
        self.session.resume_writing()

    # ------------------------------------------------------------ from the HTTP protocol

    def receive_upgrade(
        self,
        method: str,
        target: bytes,
        http_version: str,
        headers: list[tuple[bytes, bytes]],
        trailing: bytes,
    ) -> None:
        """The upgrade request as the HTTP protocol parsed it, and the bytes that followed it."""
        self._head = None
        try:
            request = check_http1_request(method, target, http_version, headers)
        except HandshakeError as error:
            self.session.refuse(error)
            return
        self._start(request, trailing)

    def _start(self, request: HandshakeRequest, trailing: bytes) -> None:
        self._key = request.key or b""
        self.session.start(request)
        if trailing:
            self.session.receive_data(trailing)

    # ------------------------------------------------------------ server interface

    def shutdown(self) -> None:
        """Graceful shutdown: close an open WebSocket with 1012 and let the app finish."""
        self.session.shutdown()

    def drain(self, grace: float | None = None) -> None:
        """The server stops: 1012 now without ``grace``, else 1001 shortly before it runs out."""
        self.session.drain(grace)

    # ------------------------------------------------------------ Carrier

    write: Any  # transport.write, once connected

    def send_accept(self, headers: list[tuple[bytes, bytes]]) -> None:
        lines = [_SWITCHING, accept_key(self._key), b"\r\n"]
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        lines.append(b"\r\n")
        self.transport.write(b"".join(lines))

    def send_error(self, status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        if not self.transport.is_closing():
            self.transport.write(error_response(status, message, headers, self.server_state.default_headers))

    def start_response(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        denial = self._denial = DenialResponse(status, headers, self.server_state.default_headers)
        head = denial.start()
        if head:
            self.transport.write(head)

    def send_response_body(self, body: bytes, more_body: bool) -> None:
        assert self._denial is not None
        data = self._denial.body(body, more_body)
        if data:
            self.transport.write(data)

    @property
    def response_started(self) -> bool:
        return self._denial is not None and self._denial.head_written

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def close(self) -> None:
        self.transport.close()

    def log_prefix(self) -> str:
        return "%s:%d - " % self.client if self.client else ""

    # ------------------------------------------------------------ the session's state under upstream's names

    @property
    def scope(self) -> Any:
        return self.session.scope

    @property
    def close_timeout(self) -> float:
        return self.session.close_timeout

    @close_timeout.setter
    def close_timeout(self, seconds: float) -> None:
        self.session.close_timeout = seconds

    @property
    def close_timer(self) -> asyncio.TimerHandle | None:
        return self.session.close_timer

    @property
    def ping_timer(self) -> asyncio.TimerHandle | None:
        return self.session.keepalive.ping_timer

    @property
    def pong_timer(self) -> asyncio.TimerHandle | None:
        return self.session.keepalive.pong_timer

    @property
    def ping_sent_at(self) -> float:
        return self.session.keepalive.ping_sent_at
