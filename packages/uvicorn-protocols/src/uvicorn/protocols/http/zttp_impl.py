"""HTTP/1.1 over zttp's parser (``--http zttp``): an adapter from zttp's events to the shared connection.

zttp is used only to read requests, like h11; responses are written by the
shared cycle. Upstream's import path and class name are kept.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

import zttp

from uvicorn.protocols.http.connection import HTTPConnection
from uvicorn.protocols.http.request_head import INVALID_REQUEST

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

__all__ = ["ZttpProtocol"]

_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n"
_Request = zttp.Request
_Data = zttp.Data
_EndOfMessage = zttp.EndOfMessage
_HeaderBlock = zttp.HeaderBlock
_NEED_DATA = zttp.NEED_DATA


class ZttpProtocol(HTTPConnection):
    """HTTP/1.1 with zttp's parser."""

    __slots__ = ("_awaiting_head", "parser")

    alpn_protocols: ClassVar[list[str] | None] = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.parser = zttp.Connection(zttp.SERVER)
        self._awaiting_head = True  # the next bytes start a request head

    def _mid_head(self) -> bool:
        return self._awaiting_head and self._head_bytes > 0

    def _feed(self, data: bytes) -> None:
        parser = self.parser
        try:
            event = parser.receive_event(data)
            while event is not _NEED_DATA and not self.stopped_reading():
                kind = type(event)
                if kind is _Request:
                    self._awaiting_head = False
                    headers = event.headers  # type: ignore[union-attr]
                    headers = (
                        headers.to_list(lowercase_names=True)
                        if type(headers) is _HeaderBlock
                        else [(name.lower(), value) for name, value in headers]
                    )
                    self.on_request_head(
                        event.method.decode("ascii"),  # type: ignore[union-attr]
                        event.target,  # type: ignore[union-attr]
                        event.http_version.decode("ascii"),  # type: ignore[union-attr]
                        headers,
                    )
                    if self._upgrade_head is not None and not self.stopped_reading():
                        # zttp keeps what follows the head to itself; a WebSocket client
                        # waits for the 101 before sending frames, so nothing is lost.
                        self.handoff_upgrade(b"")
                        return
                    if event.end_stream:  # type: ignore[union-attr]
                        self._message_done()
                elif kind is _Data:
                    self.on_request_body(event.data)  # type: ignore[union-attr]
                elif kind is _EndOfMessage:
                    self._message_done()
                else:  # CONNECTION_CLOSED: nothing more to read as HTTP
                    return
                event = parser.next_event()  # type: ignore[assignment]
        except zttp.RemoteProtocolError as exc:
            if self.stopped_reading():
                return
            if data.startswith(_HTTP2_PREFACE):
                self.reject(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.", "HTTP/2 preface")
            elif "size limit" in str(exc):
                self.reject(431, "Request header fields too large.", str(exc))
            else:
                self.reject(400, INVALID_REQUEST, str(exc))

    def _message_done(self) -> None:
        self._awaiting_head = True
        self.on_request_complete()
        self.parser.start_next_cycle()
