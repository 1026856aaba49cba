"""``--http2``: each new connection goes to the HTTP/1.1 or the HTTP/2 protocol.

Over TLS the client's ALPN choice decides as soon as the handshake is done
(``h2`` or ``http/1.1``; no ALPN means HTTP/1.1). On plain TCP the first bytes
decide: the HTTP/2 connection preface (h2c with prior knowledge, RFC 9113
3.3) selects HTTP/2, anything else HTTP/1.1, which may still upgrade with
``Upgrade: h2c``. The chosen protocol takes over the transport and gets the
bytes read so far; the HTTP/1.1 path costs nothing more once chosen.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, cast

from uvicorn.protocols.utils import is_ssl

if TYPE_CHECKING:
    from uvicorn.protocols.contract import ProtocolConfig, ProtocolServerState

__all__ = ["HTTP2_PREFACE", "VersionNegotiator"]

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class VersionNegotiator(asyncio.Protocol):
    """Hands each connection to ``http1_class`` or ``http2_class`` (by default the config's)."""

    alpn_protocols: ClassVar[list[str]] = ["h2", "http/1.1"]
    http1_class: ClassVar[type[asyncio.Protocol] | None] = None  # None: config.http1_protocol_class
    http2_class: ClassVar[type[asyncio.Protocol] | None] = None  # None: config.http2_protocol_class

    def __init__(
        self,
        config: ProtocolConfig,
        server_state: ProtocolServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_event_loop()
        self.connections = server_state.connections
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.timeout_task: asyncio.TimerHandle | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        if is_ssl(self.transport):
            ssl_object = self.transport.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            self._switch(http2=alpn == "h2")
            return
        self.connections.add(self)
        # A connection that never says which protocol it speaks is closed, as an idle one would be.
        timeout = min(self.config.timeout_keep_alive, self.config.timeout_request_head)
        self.timeout_task = self.loop.call_later(timeout, self.transport.close)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        buffer = self.buffer
        if len(buffer) < len(HTTP2_PREFACE) and HTTP2_PREFACE.startswith(buffer):
            return  # could still be the preface
        self._stop_waiting()
        self._switch(http2=buffer.startswith(HTTP2_PREFACE), initial_data=buffer)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()

    def shutdown(self) -> None:
        """Graceful shutdown: nothing was asked yet, so close."""
        if not self.transport.is_closing():
            self.transport.close()

    def drain(self, grace: float | None = None) -> None:
        """Lose nothing: the first request may be on its way, so wait for it (or the timeout).

        The protocol this connection switches to joins the server's connections, which
        tells it to drain in turn.
        """

    def _stop_waiting(self) -> None:
        self.connections.discard(self)
        if self.timeout_task is not None:
            self.timeout_task.cancel()
            self.timeout_task = None

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        config = self.config
        if http2:
            protocol_class = type(self).http2_class or config.http2_protocol_class
        else:
            protocol_class = type(self).http1_class or config.http1_protocol_class
        assert protocol_class is not None
        protocol = protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server_state, app_state=self.app_state, _loop=self.loop
        )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)
