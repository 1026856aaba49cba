"""The HTTP/2 engine over zttp (a Zig parser): the fast one, taken by ``auto`` when installed.

zttp fixes its SETTINGS and returns request-body credit by itself. The server's
own limits are advertised by rewriting the values of zttp's first SETTINGS
frame (only ever to values stricter than zttp's), and enforced by the
connection and ``frame_guard.py``. zttp refuses a connection's 4097th stream,
so the connection retires a zttp connection gracefully before that
(``stream_budget``).

zttp's HPACK encoder never uses its dynamic table, but does not say so: a client
that allows a table smaller than the default 4096 bytes (``SETTINGS_HEADER_TABLE_SIZE``)
waits for a dynamic table size update (RFC 7541 4.2) and refuses the first
header block without one. The server's first header block starts with an update
to size 0, which every client accepts and which holds whatever the client later
allows.

zttp checks a request's ``content-length`` itself, but only at its end: the
connection resets a stream as soon as it has more DATA than announced, and zttp
would then reset it a second time; its second RST_STREAM is left out. zttp
serves a CONNECT that carries ``:path`` (RFC 9113 8.5: malformed); it is reset
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import zttp

from uvicorn.protocols.http2.engine import PROTOCOL_ERROR, ProtocolFailure, advertise

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

_HEADERS = 0x1
_PADDED, _PRIORITY = 0x8, 0x20
_END_HEADERS = 0x4
_TABLE_SIZE_ZERO = b"\x20"  # RFC 7541 6.3: dynamic table size update, new size 0
_MAX_FRAME_SIZE = 16384  # the smallest a client may allow (RFC 9113 6.5.2)
_RST_HEAD = b"\x00\x00\x04\x03\x00"  # an RST_STREAM frame's length, type and flags


class ZttpEngine:
    """HTTP/2 framing, HPACK and flow control by zttp."""

    __slots__ = (
        "_conn",
        "_events",
        "_held",
        "_reset_here",
        "_settings",
        "_settings_unsent",
        "_table_announced",
    )

    # zttp answers a connection's 4097th stream with GOAWAY(ENHANCE_YOUR_CALM).
    stream_budget: int | None = 4000
    answers_after_goaway = True

    def __init__(self, events: EngineEvents, settings: LocalSettings) -> None:
        self._events = events
        self._settings = settings
        self._conn = zttp.Connection(zttp.SERVER, zttp.HTTP2)
        self._settings_unsent = True  # zttp's first frame out is its SETTINGS: ours replace its values
        self._table_announced = False  # the first header block out has said the table size is 0
        self._reset_here: set[int] = set()  # streams the server reset
        self._held = b""  # bytes taken from zttp early (to leave out a second RST_STREAM)

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
                    if event.method == b"CONNECT" and event.protocol is None:  # type: ignore[union-attr]
                        # zttp resets a CONNECT without :path itself; this one has :path (and :scheme).
                        self.reset_stream(event.stream_id, PROTOCOL_ERROR)  # type: ignore[union-attr]
                        continue
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
                    if event.stream_id in self._reset_here:  # type: ignore[union-attr]
                        self._hold_without_reset(event.stream_id)  # type: ignore[union-attr]
                    events.on_reset(event.stream_id)  # type: ignore[union-attr]
                elif kind is _GoAway:
                    events.on_goaway()
                # Settings and Ping are answered by zttp; frame_guard.py bounds how many.
        except zttp.RemoteProtocolError as exc:
            raise ProtocolFailure(0, str(exc)) from None

    def _hold_without_reset(self, stream_id: int) -> None:
        """Take zttp's output so far, less the RST_STREAM it has just queued for ``stream_id``, if any."""
        queued = self._conn.data_to_send()
        if queued[-13:-4] == _RST_HEAD + stream_id.to_bytes(4, "big"):
            queued = queued[:-13]
        self._held += queued

    def data_to_send(self) -> bytes:
        data = self._conn.data_to_send()
        if self._held:
            data, self._held = self._held + data, b""
        if self._settings_unsent and data:
            self._settings_unsent = False
            data = advertise(data, self._settings)
        if not self._table_announced and data:
            data = self._announce_table_size(data)
        return data

    def _announce_table_size(self, data: bytes) -> bytes:
        """``data`` with a table size update to 0 at the start of its first header block, if it has one."""
        position = 0
        while position + 9 <= len(data):
            length = int.from_bytes(data[position : position + 3], "big")
            if data[position + 3] != _HEADERS:
                position += 9 + length
                continue
            self._table_announced = True
            flags = data[position + 4]
            stream = data[position + 5 : position + 9]
            payload = data[position + 9 : position + 9 + length]
            skip = (1 if flags & _PADDED else 0) + (5 if flags & _PRIORITY else 0)
            payload = payload[:skip] + _TABLE_SIZE_ZERO + payload[skip:]
            if len(payload) <= _MAX_FRAME_SIZE:
                frames = _frame_head(len(payload), _HEADERS, flags, stream) + payload
            else:  # one byte too many for the frame: it goes on in a CONTINUATION frame
                continued = (
                    _frame_head(len(payload) - 1, _HEADERS, flags & ~_END_HEADERS, stream) + payload[:-1]
                )
                frames = continued + _frame_head(1, 0x9, flags & _END_HEADERS, stream) + payload[-1:]
            return data[:position] + frames + data[position + 9 + length :]
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
        self._reset_here.add(stream_id)
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


def _frame_head(length: int, frame_type: int, flags: int, stream: bytes) -> bytes:
    return length.to_bytes(3, "big") + bytes([frame_type, flags]) + stream
