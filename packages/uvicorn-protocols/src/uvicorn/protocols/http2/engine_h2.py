"""The HTTP/2 engine over h2 (pure Python): every limit configurable, taken when zttp is missing.

h2 leaves flow control to its user: body bytes beyond the peer's window wait
here, per stream, and go out as WINDOW_UPDATE frames open it; request-body
credit is returned only as the app consumes (``acknowledge``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hpack
from h2.config import H2Configuration

from uvicorn.protocols.http2.engine import (
    COMPRESSION_ERROR,
    NO_ERROR,
    PROTOCOL_ERROR,
    ProtocolFailure,
    advertise,
)
from uvicorn.protocols.http2.fields import malformed, malformed_trailers

if TYPE_CHECKING:
    from uvicorn.protocols.http2.engine import EngineEvents, Headers, LocalSettings

__all__ = ["H2Engine"]

_PSEUDO_METHOD, _PSEUDO_PATH, _PSEUDO_AUTHORITY, _PSEUDO_PROTOCOL = (
    b":method",
    b":path",
    b":authority",
    b":protocol",
)


class _Outbox:
    """Body bytes of one stream waiting for window, and how the stream ends once they are out."""

    __slots__ = ("chunks", "end_stream", "trailers")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.end_stream = False
        self.trailers: Headers | None = None


def _request_parts(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes, bytes | None, Headers]:
    """``(method, target, protocol, headers)`` with ``:authority`` turned into ``host``."""
    method = target = b""
    authority: bytes | None = None
    protocol: bytes | None = None
    fields: Headers = []
    has_host = False
    for name, value in headers:
        if name[:1] == b":":
            if name == _PSEUDO_METHOD:
                method = value
            elif name == _PSEUDO_PATH:
                target = value
            elif name == _PSEUDO_AUTHORITY:
                authority = value
            elif name == _PSEUDO_PROTOCOL:
                protocol = value
        else:
            if name == b"host":
                has_host = True
            fields.append((name, value))
    if authority is not None and not has_host:
        fields.append((b"host", authority))
    if not target and method == b"CONNECT" and authority is not None:
        target = authority
    return method, target, protocol, fields


class H2Engine:
    """HTTP/2 framing, HPACK and flow control by h2."""

    __slots__ = ("_closed", "_conn", "_events", "_goaway", "_outboxes", "_settings", "_settings_unsent")

    stream_budget: int | None = None
    # h2 stops sending anything once it has received GOAWAY (it even drops what it had queued).
    answers_after_goaway = False

    def __init__(self, events: EngineEvents, settings: LocalSettings) -> None:
        self._events = events
        config = H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_outbound_headers=False,  # checked by the shared response-head rules
            normalize_outbound_headers=False,
            validate_inbound_headers=False,  # fields.py: a stream error, where h2 ends the connection
            normalize_inbound_headers=False,
        )
        self._settings = settings
        self._settings_unsent = True
        # Written by hand, sent after h2's bytes: a graceful GOAWAY (h2's own would end all sending),
        # or h2's GOAWAY of a connection error with the error code RFC 9113 gives.
        self._goaway = b""
        self._conn = h2.connection.H2Connection(config)
        self._conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                # h2 ends the connection for a stream past its limit; the connection refuses
                # streams past ours, which is what the client is told (advertise()).
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2**31 - 1,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: settings.max_header_list_size,
                h2.settings.SettingCodes.HEADER_TABLE_SIZE: settings.header_table_size,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: settings.initial_window_size,
                h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: int(settings.enable_connect_protocol),
            },
        )
        self._outboxes: dict[int, _Outbox] = {}
        self._closed = False  # the client sent GOAWAY: h2 refuses to send anything more

    def initiate(self) -> None:
        self._conn.initiate_connection()

    def initiate_upgrade(
        self, settings_header: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        self._conn.initiate_upgrade_connection(settings_header)
        # RFC 9113 3.2 (RFC 7540): the upgrading request is stream 1, half-closed (remote).
        self._events.on_request(1, method, target, None, headers, True)

    def receive(self, data: bytes) -> None:
        conn = self._conn
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            # h2 has queued its GOAWAY (last, 17 bytes) with the exception's error code.
            code = int(getattr(exc, "error_code", PROTOCOL_ERROR))
            if isinstance(exc.__cause__, hpack.HPACKError):
                code = COMPRESSION_ERROR  # RFC 9113 4.3; h2 says PROTOCOL_ERROR
                queued = conn.data_to_send()
                self._goaway = queued[:-4] + code.to_bytes(4, "big")
            raise ProtocolFailure(code, str(exc) or type(exc).__name__) from None
        if any(type(event) is h2.events.ConnectionTerminated for event in events):
            self._closed = True  # already, for the events before the GOAWAY too
        handler = self._events
        for event in events:
            kind = type(event)
            if kind is h2.events.RequestReceived:
                extended_connect = self._settings.enable_connect_protocol
                if malformed(event.headers, extended_connect) is not None:  # type: ignore[attr-defined]
                    self.reset_stream(event.stream_id, PROTOCOL_ERROR)  # type: ignore[attr-defined]
                    continue
                method, target, protocol, headers = _request_parts(event.headers)  # type: ignore[attr-defined]
                handler.on_request(
                    event.stream_id,  # type: ignore[attr-defined]
                    method,
                    target,
                    protocol,
                    headers,
                    event.stream_ended is not None,  # type: ignore[attr-defined]
                )
            elif kind is h2.events.DataReceived:
                stream_id = event.stream_id  # type: ignore[attr-defined]
                padding = event.flow_controlled_length - len(event.data)  # type: ignore[attr-defined]
                if padding:
                    self.acknowledge(stream_id, padding)  # padding is never the app's to consume
                if event.data:  # type: ignore[attr-defined]
                    handler.on_data(stream_id, event.data)  # type: ignore[attr-defined]
            elif kind is h2.events.StreamEnded:
                # Also yielded after a request head or trailers that ended the stream:
                # the connection ignores the end of a request it already knows is complete.
                handler.on_end(event.stream_id, [])  # type: ignore[attr-defined]
            elif kind is h2.events.TrailersReceived:
                if malformed_trailers(event.headers) is not None:  # type: ignore[attr-defined]
                    self.reset_stream(event.stream_id, PROTOCOL_ERROR)  # type: ignore[attr-defined]
                    handler.on_reset(event.stream_id)  # type: ignore[attr-defined]
                    continue
                handler.on_end(event.stream_id, list(event.headers))  # type: ignore[attr-defined]
            elif kind is h2.events.WindowUpdated or kind is h2.events.RemoteSettingsChanged:
                self._send_waiting()
                handler.on_window_update()
            elif kind is h2.events.StreamReset:
                self._outboxes.pop(event.stream_id, None)  # type: ignore[attr-defined]
                handler.on_reset(event.stream_id)  # type: ignore[attr-defined]
            elif kind is h2.events.ConnectionTerminated:
                handler.on_goaway()

    def data_to_send(self) -> bytes:
        data = self._conn.data_to_send()
        if self._settings_unsent and data:
            self._settings_unsent = False
            data = advertise(data, self._settings)
        if self._goaway:
            data, self._goaway = data + self._goaway, b""
        return data

    def send_response(self, stream_id: int, status: int, headers: Headers, end_stream: bool) -> None:
        if self._closed:
            return
        self._conn.send_headers(stream_id, [(b":status", b"%d" % status), *headers], end_stream=end_stream)

    def send_informational(self, stream_id: int, status: int, headers: Headers) -> None:
        if self._closed:
            return
        self._conn.send_headers(stream_id, [(b":status", b"%d" % status), *headers])

    def send_data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        if self._closed:
            return
        outbox = self._outboxes.get(stream_id)
        if outbox is None:
            outbox = self._outboxes[stream_id] = _Outbox()
        if data:
            outbox.chunks.append(data)
        outbox.end_stream = end_stream
        self._send_from(stream_id, outbox)

    def send_trailers(self, stream_id: int, headers: Headers) -> None:
        if self._closed:
            return
        outbox = self._outboxes.get(stream_id)
        if outbox is None:
            outbox = self._outboxes[stream_id] = _Outbox()
        outbox.trailers = headers
        outbox.end_stream = True
        self._send_from(stream_id, outbox)

    def _send_from(self, stream_id: int, outbox: _Outbox) -> None:
        conn = self._conn
        chunks = outbox.chunks
        while chunks:
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                return
            chunk = chunks[0]
            if len(chunk) > window:
                chunks[0] = chunk[window:]
                chunk = chunk[:window]
            else:
                chunks.pop(0)
            last = not chunks and outbox.end_stream and outbox.trailers is None
            conn.send_data(stream_id, chunk, end_stream=last)
            if last:
                del self._outboxes[stream_id]
                return
        if outbox.trailers is not None:
            conn.send_headers(stream_id, outbox.trailers, end_stream=True)
            del self._outboxes[stream_id]
        elif outbox.end_stream:
            conn.send_data(stream_id, b"", end_stream=True)
            del self._outboxes[stream_id]
        else:
            del self._outboxes[stream_id]  # all out: nothing waits for window

    def _send_waiting(self) -> None:
        if self._closed:
            return
        for stream_id, outbox in list(self._outboxes.items()):
            try:
                self._send_from(stream_id, outbox)
            except h2.exceptions.StreamClosedError:
                self._outboxes.pop(stream_id, None)

    def has_pending(self, stream_id: int) -> bool:
        return stream_id in self._outboxes

    def reset_stream(self, stream_id: int, error_code: int) -> None:
        self._outboxes.pop(stream_id, None)
        if self._closed:
            return
        try:
            self._conn.reset_stream(stream_id, error_code)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass  # already closed

    def acknowledge(self, stream_id: int, length: int) -> None:
        try:
            self._conn.acknowledge_received_data(length, stream_id)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass  # credit for a stream that ended: the connection window was handled by h2

    def goaway(self, error_code: int, last_stream_id: int | None = None) -> None:
        if error_code == NO_ERROR:
            # Graceful: the open streams are still answered, which h2 refuses once it sent GOAWAY.
            last = self._conn.highest_inbound_stream_id if last_stream_id is None else last_stream_id
            payload = last.to_bytes(4, "big") + error_code.to_bytes(4, "big")
            self._goaway = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + payload
            return
        try:
            self._conn.close_connection(error_code=error_code, last_stream_id=last_stream_id)
        except h2.exceptions.ProtocolError:
            pass
