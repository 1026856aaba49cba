"""The HTTP/2 engine over zttp (a Zig parser): the fast one, taken by ``auto`` when installed.

zttp fixes its SETTINGS and returns request-body credit by itself. The server's
own limits are advertised by rewriting the values of zttp's first SETTINGS
frame (only ever to values stricter than zttp's), and enforced by the
connection and ``frame_guard.py``. zttp refuses a connection's 4097th stream,
so the connection retires a zttp connection gracefully before that
(``stream_budget``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import zttp

from uvicorn.protocols.http2.engine import ProtocolFailure, advertise

if TYPE_CHECKING:
    from uvicorn.protocols.http2.engine import EngineEvents, Headers, LocalSettings

__all__ = ["ZttpEngine"]

_Request = zttp.Request
_Data = zttp.Data
_EndOfMessage = zttp.EndOfMessage
_RstStream = zttp.RstStream
_WindowUpdate = zttp.WindowUpdate
_GoAway = zttp.GoAway
_NEED_DATA = zttp.NEED_DATA
_HeaderBlock = zttp.HeaderBlock


class ZttpEngine:
    """HTTP/2 framing, HPACK and flow control by zttp."""

    __slots__ = ("_conn", "_events", "_settings", "_settings_unsent")

    # zttp answers a connection's 4097th stream with GOAWAY(ENHANCE_YOUR_CALM).
    stream_budget: int | None = 4000

    def __init__(self, events: EngineEvents, settings: LocalSettings) -> None:
        self._events = events
        self._settings = settings
        self._conn = zttp.Connection(zttp.SERVER, zttp.HTTP2)
        self._settings_unsent = True  # zttp's first frame out is its SETTINGS: ours replace its values

    def initiate(self) -> None:
        self._conn.initiate_connection()

    def initiate_upgrade(
        self, settings_header: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        self._conn.initiate_upgrade_connection(method, target, headers, settings_header)
        self._dispatch()  # zttp reports the upgrading request as stream 1's Request

    def receive(self, data: bytes) -> None:
        try:
            self._conn.receive_data(data)
        except zttp.RemoteProtocolError as exc:
            raise ProtocolFailure(0, str(exc)) from None
        self._dispatch()

    def _dispatch(self) -> None:
        conn = self._conn
        events = self._events
        try:
            while True:
                event = conn.next_event()
                kind = type(event)
                if kind is _Request:
                    headers = event.headers  # type: ignore[union-attr]
                    if type(headers) is _HeaderBlock:
                        headers = headers.to_list(lowercase_names=True)
                    events.on_request(
                        event.stream_id,  # type: ignore[union-attr]
                        event.method,  # type: ignore[union-attr]
                        event.target,  # type: ignore[union-attr]
                        event.protocol,  # type: ignore[union-attr]
                        headers,  # type: ignore[arg-type]
                        event.end_stream,  # type: ignore[union-attr]
                    )
                elif kind is _Data:
                    events.on_data(event.stream_id, event.data)  # type: ignore[union-attr]
                elif kind is _EndOfMessage:
                    events.on_end(event.stream_id, event.trailers)  # type: ignore[union-attr]
                elif event is _NEED_DATA:
                    return
                elif kind is _WindowUpdate:
                    events.on_window_update()
                elif kind is _RstStream:
                    events.on_reset(event.stream_id)  # type: ignore[union-attr]
                elif kind is _GoAway:
                    events.on_goaway()
                # Settings and Ping are answered by zttp; frame_guard.py bounds how many.
        except zttp.RemoteProtocolError as exc:
            raise ProtocolFailure(0, str(exc)) from None

    def data_to_send(self) -> bytes:
        data = self._conn.data_to_send()
        if self._settings_unsent and data:
            self._settings_unsent = False
            return advertise(data, self._settings)
        return data

    def send_response(self, stream_id: int, status: int, headers: Headers, end_stream: bool) -> None:
        self._conn.stream(stream_id).send_response(status, headers, end_stream)

    def send_informational(self, stream_id: int, status: int, headers: Headers) -> None:
        self._conn.stream(stream_id).send_informational(status, headers)

    def send_data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        stream = self._conn.stream(stream_id)
        if data:
            stream.send_data(data)
        if end_stream:
            stream.end_message()

    def send_trailers(self, stream_id: int, headers: Headers) -> None:
        self._conn.stream(stream_id).end_message(headers or None)

    def has_pending(self, stream_id: int) -> bool:
        try:
            return bool(self._conn.stream(stream_id).pending_bytes)
        except zttp.ProtocolError:
            return False  # the stream is gone: nothing can wait on it

    def reset_stream(self, stream_id: int, error_code: int) -> None:
        try:
            self._conn.stream(stream_id).reset(error_code)
        except zttp.ProtocolError:
            pass  # already closed

    def acknowledge(self, stream_id: int, length: int) -> None:
        """zttp returns credit as DATA arrives; the connection stops reading when an app lags."""

    def goaway(self, error_code: int, last_stream_id: int | None = None) -> None:
        try:
            if last_stream_id is None:
                self._conn.close(error_code)
            else:
                self._conn.close(error_code, last_stream_id)
        except zttp.ProtocolError:
            pass  # already going away
