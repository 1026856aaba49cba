"""HTTP/2 frames by hand (for broken input), and a strict reading of what a server wrote back.

:func:`frame` builds any frame, valid or not (RFC 9113 4.1). :func:`read_server`
reads the server's bytes as a client would: it fails the example on anything a
server must never send (a frame that is not a whole frame, DATA beyond what the
client's windows allowed, a frame over the client's ``SETTINGS_MAX_FRAME_SIZE``,
frames on a stream after it ended, a header block that is not one HEADERS plus
its CONTINUATIONs, a broken HPACK block), and gathers per stream what a client
sees: the response, its body and trailers, or the reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import hpack

__all__ = [
    "CONNECTION_PREFACE",
    "ServerOutput",
    "StreamView",
    "frame",
    "read_server",
]

CONNECTION_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    range(10)
)
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# RFC 9113 7: error codes.
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM = 0x4, 0x5, 0x6, 0x7
CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = 0x8, 0x9, 0xA, 0xB

ERROR_NAMES = {
    NO_ERROR: "NO_ERROR",
    PROTOCOL_ERROR: "PROTOCOL_ERROR",
    INTERNAL_ERROR: "INTERNAL_ERROR",
    FLOW_CONTROL_ERROR: "FLOW_CONTROL_ERROR",
    SETTINGS_TIMEOUT: "SETTINGS_TIMEOUT",
    STREAM_CLOSED: "STREAM_CLOSED",
    FRAME_SIZE_ERROR: "FRAME_SIZE_ERROR",
    REFUSED_STREAM: "REFUSED_STREAM",
    CANCEL: "CANCEL",
    COMPRESSION_ERROR: "COMPRESSION_ERROR",
    CONNECT_ERROR: "CONNECT_ERROR",
    ENHANCE_YOUR_CALM: "ENHANCE_YOUR_CALM",
}

# SETTINGS identifiers (RFC 9113 6.5.2).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS = 0x1, 0x2, 0x3
INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = 0x4, 0x5, 0x6

DEFAULT_WINDOW = 65535
DEFAULT_MAX_FRAME_SIZE = 16384


def frame(
    frame_type: int, flags: int, stream_id: int, payload: bytes = b"", length: int | None = None
) -> bytes:
    """One frame; ``length`` may lie about the payload's."""
    size = len(payload) if length is None else length
    return size.to_bytes(3, "big") + bytes([frame_type, flags]) + stream_id.to_bytes(4, "big") + payload


def settings_payload(values: dict[int, int]) -> bytes:
    return b"".join(key.to_bytes(2, "big") + value.to_bytes(4, "big") for key, value in values.items())


@dataclass
class StreamView:
    """What a client saw of one stream."""

    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    informational: list[int] = field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    ended: bool = False  # the server's END_STREAM
    reset: int | None = None  # the server's RST_STREAM error code

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)

    def comparable(self) -> tuple[object, ...]:
        """Everything but the date (which depends on when the example ran)."""
        headers = [(name, value) for name, value in self.headers if name != b"date"]
        return (self.status, headers, self.informational, self.body, self.trailers, self.ended, self.reset)


@dataclass
class ServerOutput:
    """Everything a client could tell from the server's bytes."""

    settings: list[dict[int, int]] = field(default_factory=list)  # each SETTINGS frame (not ACKs)
    settings_acks: int = 0
    ping_acks: list[bytes] = field(default_factory=list)
    goaways: list[tuple[int, int]] = field(default_factory=list)  # (last stream id, error code)
    streams: dict[int, StreamView] = field(default_factory=dict)
    connection_updates: int = 0  # WINDOW_UPDATE increments for the connection
    frame_types: list[int] = field(default_factory=list)

    @property
    def goaway_code(self) -> int | None:
        """The error code of the last GOAWAY, if any."""
        return self.goaways[-1][1] if self.goaways else None

    def stream(self, stream_id: int) -> StreamView:
        return self.streams.setdefault(stream_id, StreamView())


@dataclass
class ClientLimits:
    """What the client allowed the server: frame size, HPACK table, flow-control credit."""

    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    header_table_size: int = 4096
    largest_initial_window: int = DEFAULT_WINDOW  # the largest SETTINGS_INITIAL_WINDOW_SIZE it gave
    connection_credit: int = DEFAULT_WINDOW  # 65535 plus every connection WINDOW_UPDATE it sent
    stream_credit: dict[int, int] = field(default_factory=dict)  # WINDOW_UPDATE increments per stream


def read_server(data: bytes, limits: ClientLimits) -> ServerOutput:
    """Read every frame the server wrote; AssertionError on anything a server must never send."""
    output = ServerOutput()
    decoder = hpack.Decoder()
    decoder.max_allowed_table_size = limits.header_table_size
    position = 0
    block: tuple[int, int, bytes] | None = None  # (stream id, flags of its HEADERS, fragments so far)
    sent_data: dict[int, int] = {}
    while position < len(data):
        assert len(data) - position >= 9, f"a frame header cut short: {data[position:]!r}"
        length = int.from_bytes(data[position : position + 3], "big")
        frame_type, flags = data[position + 3], data[position + 4]
        stream_id = int.from_bytes(data[position + 5 : position + 9], "big") & 0x7FFFFFFF
        payload = data[position + 9 : position + 9 + length]
        assert len(payload) == length, f"a frame cut short: type {frame_type}, {length} bytes announced"
        assert length <= limits.max_frame_size, (
            f"a frame of {length} bytes (the client allows {limits.max_frame_size})"
        )
        position += 9 + length
        output.frame_types.append(frame_type)
        if block is not None:
            assert frame_type == CONTINUATION and stream_id == block[0], "a header block interrupted"
        if frame_type in (HEADERS, CONTINUATION):
            if frame_type == HEADERS:
                assert block is None
                assert stream_id % 2 == 1, f"HEADERS on stream {stream_id}"
                view = output.stream(stream_id)
                assert not view.ended and view.reset is None, f"HEADERS on stream {stream_id} after its end"
                fragment = _unpadded(payload, flags)
                if flags & PRIORITY_FLAG:
                    fragment = fragment[5:]
                block = (stream_id, flags, fragment)
            else:
                assert block is not None, "CONTINUATION without HEADERS"
                block = (block[0], block[1] | (flags & END_HEADERS), block[2] + payload)
            if block[1] & END_HEADERS:
                try:
                    fields = decoder.decode(block[2], raw=True)
                except hpack.HPACKError as exc:
                    raise AssertionError(
                        f"stream {block[0]}: a header block the client cannot decode: {exc!r}"
                    )
                _header_block(output.stream(block[0]), fields, block[1])
                block = None
        elif frame_type == DATA:
            view = output.stream(stream_id)
            assert stream_id != 0 and view.status is not None, (
                f"DATA on stream {stream_id} before its response"
            )
            assert not view.ended and view.reset is None, f"DATA on stream {stream_id} after its end"
            sent_data[stream_id] = sent_data.get(stream_id, 0) + length
            view.body += _unpadded(payload, flags)
            view.ended = bool(flags & END_STREAM)
        elif frame_type == RST_STREAM:
            assert length == 4 and stream_id != 0, "a malformed RST_STREAM"
            view = output.stream(stream_id)
            assert view.reset is None, f"stream {stream_id} reset twice"
            view.reset = int.from_bytes(payload, "big")
        elif frame_type == SETTINGS:
            assert stream_id == 0 and length % 6 == 0, "a malformed SETTINGS"
            if flags & ACK:
                assert length == 0
                output.settings_acks += 1
            else:
                output.settings.append(
                    {
                        int.from_bytes(payload[i : i + 2], "big"): int.from_bytes(
                            payload[i + 2 : i + 6], "big"
                        )
                        for i in range(0, length, 6)
                    }
                )
        elif frame_type == PING:
            assert stream_id == 0 and length == 8, "a malformed PING"
            assert flags & ACK, "the server pinged (it never needs to)"
            output.ping_acks.append(payload)
        elif frame_type == GOAWAY:
            assert stream_id == 0 and length >= 8, "a malformed GOAWAY"
            last = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if output.goaways:
                assert last <= output.goaways[-1][0], "a GOAWAY raised the last stream id"
            output.goaways.append((last, int.from_bytes(payload[4:8], "big")))
        elif frame_type == WINDOW_UPDATE:
            assert length == 4, "a malformed WINDOW_UPDATE"
            increment = int.from_bytes(payload, "big") & 0x7FFFFFFF
            assert increment > 0, "a WINDOW_UPDATE of 0"
            if stream_id == 0:
                output.connection_updates += increment
        else:
            raise AssertionError(f"a frame of type {frame_type} from the server")
    assert block is None, "a header block without its end"
    total = sum(sent_data.values())
    assert total <= limits.connection_credit, (
        f"{total} DATA bytes against a connection window of {limits.connection_credit}"
    )
    for stream_id, sent in sent_data.items():
        credit = limits.largest_initial_window + limits.stream_credit.get(stream_id, 0)
        assert sent <= credit, f"stream {stream_id}: {sent} DATA bytes against a window of {credit}"
    return output


def _unpadded(payload: bytes, flags: int) -> bytes:
    if not flags & PADDED:
        return payload
    pad = payload[0]
    assert pad < len(payload), "padding longer than the frame"
    return payload[1 : len(payload) - pad]


def _header_block(view: StreamView, fields: list[tuple[bytes, bytes]], flags: int) -> None:
    status = next((value for name, value in fields if name == b":status"), None)
    regular = [(name, value) for name, value in fields if not name.startswith(b":")]
    if view.status is None:
        assert status is not None, f"a response head without :status: {fields}"
        code = int(status)
        if code < 200:
            assert not flags & END_STREAM, "an informational response ended the stream"
            view.informational.append(code)
            return
        view.status = code
        view.headers = regular
    else:
        assert status is None and flags & END_STREAM, f"a second header block that is no trailers: {fields}"
        view.trailers = regular
    view.ended = bool(flags & END_STREAM)
