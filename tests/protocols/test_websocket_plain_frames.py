"""The fast path for connections without extensions (``plain_frames``).

What it takes itself (final, masked, unfragmented text and binary frames within
the size limit), what it hands to the library byte for byte, and that neither
depends on where TCP cuts the stream. The end-to-end tests run every
implementation over a real socket without permessage-deflate, where the fast
path is on.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from websockets.frames import Frame as WebsocketsFrame
from websockets.frames import Opcode
from wsproto.frame_protocol import FrameProtocol

from tests.protocols.test_websocket_support import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Recorder,
    frame,
    raw_websocket,
)
from tests.serving import serve
from uvicorn.protocols.websockets.plain_frames import (
    PlainFrameReader,
    binary_frame,
    text_frame,
    unmask,
    xor_unmask,
)
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

MAX_SIZE = 100_000


class Split:
    """A reader whose deliveries and library bytes are recorded, fed in chosen pieces."""

    def __init__(
        self,
        *,
        take: bool = True,
        library_stops_after: int | None = None,
        control: bool = False,
        control_reads_on: bool = True,
    ) -> None:
        self.messages: list[dict[str, Any]] = []
        self.library = bytearray()
        self.library_calls = 0
        self.controls: list[bytes] = []  # with ``control``: what the control reader got, call by call
        self._take = take
        self._library_stops_after = library_stops_after
        self._control_reads_on = control_reads_on
        self.reader = PlainFrameReader(
            MAX_SIZE,
            xor_unmask,
            self.messages.append,
            self._library,
            control=self._control if control else None,
        )

    def _control(self, data: bytes) -> bool:
        self.controls.append(bytes(data))
        return self._control_reads_on

    def _library(self, data: bytes) -> bool:
        self.library += data
        self.library_calls += 1
        return self._library_stops_after is None or self.library_calls < self._library_stops_after

    def feed(self, stream: bytes, cuts: list[int] | None = None) -> Split:
        edges = [0, *(cuts or []), len(stream)]
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            self.reader.feed(stream[start:stop], self._take)
        return self


def text(value: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": value}


def binary(value: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "bytes": value}


# Plain frames of every length encoding, and library frames between them.
SMALL = [
    (frame(OP_TEXT, "héllo".encode()), text("héllo")),
    (frame(OP_PING, b"p"), None),
    (frame(OP_BINARY, b"\x00" * 300), binary(b"\x00" * 300)),  # 16-bit length
    (frame(OP_TEXT, b"ab", fin=False), None),  # a fragmented message: all of it goes to the library
    (frame(OP_PONG, b"q"), None),
    (frame(OP_CONT, b"cd"), None),
    (frame(OP_BINARY, b"", rsv=0b100), None),  # a reserved bit: the library refuses it
    (frame(OP_BINARY, b""), binary(b"")),
    (frame(OP_TEXT, b"last"), text("last")),
]
BIG = (frame(OP_BINARY, os.urandom(70_000)), None)  # 64-bit length; its event is filled below


def expected(frames: list[tuple[bytes, dict[str, Any] | None]]) -> tuple[list[dict[str, Any]], bytes]:
    messages = [event for _, event in frames if event is not None]
    library = b"".join(data for data, event in frames if event is None)
    return messages, library


def with_big_frame() -> list[tuple[bytes, dict[str, Any] | None]]:
    data = BIG[0]
    payload = xor_unmask(data[14:], data[10:14])
    return [*SMALL[:3], (data, binary(payload)), *SMALL[3:]]


def test_plain_frames_are_taken_and_the_rest_goes_to_the_library_in_order() -> None:
    frames = with_big_frame()
    messages, library = expected(frames)
    split = Split().feed(b"".join(data for data, _ in frames))
    assert split.messages == messages
    assert bytes(split.library) == library


def test_every_cut_gives_the_same_result() -> None:
    stream = b"".join(data for data, _ in SMALL)
    messages, library = expected(SMALL)
    for cut in range(1, len(stream)):
        split = Split().feed(stream, [cut])
        assert (split.messages, bytes(split.library)) == (messages, library), f"cut at {cut}"
    one_byte_at_a_time = Split().feed(stream, list(range(1, len(stream))))
    assert (one_byte_at_a_time.messages, bytes(one_byte_at_a_time.library)) == (messages, library)


def test_a_big_frame_cut_anywhere_arrives_whole() -> None:
    frames = with_big_frame()
    stream = b"".join(data for data, _ in frames)
    messages, library = expected(frames)
    big_start = sum(len(data) for data, _ in frames[:3])
    # Inside its header and mask byte by byte, inside its payload every few KiB.
    cuts = [*range(big_start + 1, big_start + 15), *range(big_start + 15, big_start + 70_014, 4093)]
    for cut in cuts:
        split = Split().feed(stream, [cut])
        assert (split.messages, bytes(split.library)) == (messages, library), f"cut at {cut}"
    many_pieces = Split().feed(stream, cuts)
    assert (many_pieces.messages, bytes(many_pieces.library)) == (messages, library)


def longer_length(short: bytes, code: int) -> bytes:
    """``short`` (a masked frame under 126 bytes) with its length in a 16-bit (126) or 64-bit (127) field."""
    length = short[1] & 0x7F
    return short[:1] + bytes([0x80 | code]) + length.to_bytes(2 if code == 126 else 8, "big") + short[2:]


NOT_PLAIN = {
    "unmasked": frame(OP_TEXT, b"hi", mask=False),
    "rsv1": frame(OP_TEXT, b"hi", rsv=0b100),
    "rsv2": frame(OP_BINARY, b"hi", rsv=0b010),
    "rsv3": frame(OP_BINARY, b"hi", rsv=0b001),
    "16-bit-length-for-5-bytes": longer_length(frame(OP_BINARY, b"hello"), 126),
    "64-bit-length-for-100-bytes": longer_length(frame(OP_BINARY, b"x" * 100), 127),
    "over-max-size": frame(OP_BINARY, b"x" * (MAX_SIZE + 1)),
    "text-not-utf8": frame(OP_TEXT, b"\xff\xfe"),
    "text-cut-inside-a-character": frame(OP_TEXT, "é".encode()[:1]),
    "reserved-opcode": frame(0x3, b"x"),
    "continuation": frame(OP_CONT, b"x"),
    "close": frame(OP_CLOSE, b"\x03\xe8"),
    "ping": frame(OP_PING, b"x"),
    "pong": frame(OP_PONG, b"x"),
}


@pytest.mark.parametrize("data", list(NOT_PLAIN.values()), ids=list(NOT_PLAIN))
def test_anything_else_goes_to_the_library_unchanged(data: bytes) -> None:
    after = frame(OP_TEXT, b"after")
    split = Split().feed(data + after)
    assert bytes(split.library) == data
    assert split.messages == [text("after")]  # and the reader goes on after it


def test_inside_a_fragmented_message_even_a_plain_frame_goes_to_the_library() -> None:
    # A new message inside a fragmented one is the library's protocol error to report.
    stream = frame(OP_BINARY, b"a", fin=False) + frame(OP_TEXT, b"b") + frame(OP_CONT, b"c")
    split = Split().feed(stream + frame(OP_TEXT, b"after"))
    assert bytes(split.library) == stream
    assert split.messages == [text("after")]


def test_nothing_is_taken_unless_asked() -> None:
    stream = frame(OP_TEXT, b"one") + frame(OP_BINARY, b"two")
    split = Split(take=False).feed(stream, [3])
    assert split.messages == []
    assert bytes(split.library) == stream


def test_reading_ends_when_the_library_says_so() -> None:
    close = frame(OP_CLOSE, b"\x03\xe8")
    split = Split(library_stops_after=1).feed(frame(OP_TEXT, b"before") + close + frame(OP_TEXT, b"after"))
    assert split.messages == [text("before")]
    assert bytes(split.library) == close


def test_the_library_gets_a_frame_it_started_in_pieces() -> None:
    # A frame over the limit goes to the library from its header on, as it arrives:
    # nothing of it is buffered here.
    big = frame(OP_BINARY, b"x" * (MAX_SIZE + 10))
    split = Split()
    split.reader.feed(big[:20], True)
    assert bytes(split.library) == big[:20]
    split.reader.feed(big[20:] + frame(OP_TEXT, b"next"), True)
    assert bytes(split.library) == big
    assert split.messages == [text("next")]


def test_control_frames_with_a_good_header_go_whole_to_the_control_reader() -> None:
    # Where the codecs correct their libraries (websockets_codec.py, wsproto_codec.py).
    controls = [
        frame(OP_PING, b"p" * 125),
        frame(OP_PONG, b""),
        frame(OP_CLOSE, b"\x03\xf6bad gateway"),
    ]
    others = [
        frame(OP_TEXT, b"ab", fin=False),
        frame(OP_CONT, b"cd", fin=False),
        frame(OP_PING, b"x" * 126),  # too long for a control frame: the library's to refuse
        longer_length(frame(OP_PING, b"x"), 126),
        frame(OP_PING, b"x", fin=False),
        frame(OP_PONG, b"x", rsv=0b100),
        frame(OP_PING, b"x", mask=False),
        frame(0xB, b"x"),
    ]
    stream = others[0] + controls[0] + others[1] + controls[1] + b"".join(others[2:]) + controls[2]
    for cut in [None, *range(1, len(stream))]:
        split = Split(control=True).feed(stream, None if cut is None else [cut])
        assert split.controls == controls, f"cut at {cut}"
        assert bytes(split.library) == b"".join(others), f"cut at {cut}"
    one_byte_at_a_time = Split(control=True).feed(stream, list(range(1, len(stream))))
    assert one_byte_at_a_time.controls == controls


def test_the_control_reader_may_end_reading() -> None:
    split = Split(control=True, control_reads_on=False)
    split.feed(frame(OP_CLOSE, b"\x03\xe8") + frame(OP_TEXT, b"after"))
    assert len(split.controls) == 1
    assert split.messages == []  # skipped after the close, as after the library's own stop
    assert bytes(split.library) == b""


@pytest.mark.parametrize("length", [*range(40), 511, 512, 513, 4096, 65537])
def test_xor_unmask_matches_a_bytewise_xor(length: int) -> None:
    payload, mask = os.urandom(length), os.urandom(4)
    reference = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    assert xor_unmask(payload, mask) == reference
    assert xor_unmask(memoryview(b"--" + payload)[2:], mask) == reference


@pytest.mark.parametrize("length", [0, 3, 64, 4097, 65536])
def test_unmask_and_xor_unmask_agree(length: int) -> None:
    # unmask is websockets' C function when it is installed, xor_unmask otherwise.
    payload, mask = os.urandom(length), os.urandom(4)
    assert unmask(memoryview(payload), mask) == xor_unmask(payload, mask)


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 70_000])
def test_frames_out_are_the_bytes_the_libraries_write(length: int) -> None:
    data = os.urandom(length)
    chars = "é" * (length // 2) + "x" * (length % 2)
    assert binary_frame(data) == WebsocketsFrame(Opcode.BINARY, data).serialize(mask=False)
    assert binary_frame(data) == bytes(FrameProtocol(client=False, extensions=[]).send_data(data))
    assert text_frame(chars) == WebsocketsFrame(Opcode.TEXT, chars.encode()).serialize(mask=False)
    assert text_frame(chars) == bytes(FrameProtocol(client=False, extensions=[]).send_data(chars))


# ---------------------------------------------------------------- over a real socket


def reporting_reads(base: type[Any], got_bytes: asyncio.Event) -> type[Any]:
    """``base`` setting ``got_bytes`` after each read, so a test can cut the stream where it wants."""

    class ReportingReads(base):  # type: ignore[misc]
        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            got_bytes.set()

    return ReportingReads


async def test_messages_cut_anywhere_on_the_wire_arrive_whole(ws: type[Any], http: str) -> None:
    got_bytes = asyncio.Event()
    app = Recorder()
    big = os.urandom(70_000)
    stream = (
        frame(OP_TEXT, "héllo".encode())
        + frame(OP_PING, b"p")
        + frame(OP_BINARY, b"\x01" * 300)
        + frame(OP_TEXT, b"ab", fin=False)
        + frame(OP_CONT, b"cd")
        + frame(OP_BINARY, big)
        + frame(OP_BINARY, b"")
    )
    cuts = [*range(1, 360), *range(360, len(stream), 7001)]  # every byte of the small frames
    async with (
        serve(app, ws=reporting_reads(ws, got_bytes), http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            got_bytes.clear()
            await client.send(stream[start:stop])
            await asyncio.wait_for(got_bytes.wait(), 30)  # read before the next piece leaves
        answers = [await client.read_frame() for _ in range(6)]
    # The library answers the ping at once; the app echoes the messages in its own time.
    assert [answer.payload for answer in answers if answer.opcode == OP_PONG] == [b"p"]
    assert [(answer.opcode, answer.payload) for answer in answers if answer.opcode != OP_PONG] == [
        (OP_TEXT, "héllo".encode()),
        (OP_BINARY, b"\x01" * 300),
        (OP_TEXT, b"abcd"),
        (OP_BINARY, big),
        (OP_BINARY, b""),
    ]


async def test_a_length_in_a_longer_encoding_than_needed(ws: type[Any], http: str) -> None:
    # websockets reads a 16-bit length of 5; wsproto refuses it (RFC 6455 5.2 asks for
    # the minimal encoding). The fast path leaves such frames to the library, whose answer stands.
    longer = longer_length(frame(OP_BINARY, b"hello"), 126)
    app = Recorder()
    async with (
        serve(app, ws=ws, http=http, lifespan="off") as running,
        raw_websocket(running) as client,
    ):
        await client.send(longer)
        answer = await client.read_frame()
    if ws is WSProtocol:
        assert (answer.opcode, answer.close_code) == (OP_CLOSE, 1002)
    else:
        assert (answer.opcode, answer.payload) == (OP_BINARY, b"hello")
