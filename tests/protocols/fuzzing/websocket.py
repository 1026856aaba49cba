"""RFC 6455 frame sequences for fuzzing, and what the server must do with each.

A generated :class:`Session` is what one client sends after its opening
handshake: valid messages (text and binary, whole or fragmented at any byte,
with pings and pongs between the fragments, any masking key), then at most one
fault (a frame that breaks a rule RFC 6455 gives a close code for), or a close
frame, or nothing (the client just goes away), and maybe junk after it that must
be ignored. It knows the close code the server must send (1002, 1007, 1009, or
the echo of the client's), the messages the app must receive, intact and in
order, and the pongs the server owes.

A length written in more bytes than needed (RFC 6455 5.2: "the minimal number of
bytes MUST be used") is refused with 1002 by ``wsproto`` and accepted by the
``websockets`` implementations; the RFC does not say what a receiver does, so
either is accepted (see :attr:`Session.lenient`).
"""

from __future__ import annotations

import base64
import random
import struct
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

__all__ = ["FAULTS", "MAX_SIZE", "Frame", "Session", "parse_server_frames", "sessions"]

#: ws_max_size for the fuzzed server: small enough to cross cheaply.
MAX_SIZE = 200
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: Close codes a peer may send (RFC 6455 7.4.1, and 1012-1014 registered with IANA since).
VALID_CLOSE_CODES = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999
]  # fmt: skip
#: Never valid on the wire: unused, reserved, or meant only for local use (1005, 1006, 1015).
INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
#: Bytes that make UTF-8 invalid: a stray byte, a bad continuation, a surrogate, past U+10FFFF,
#: an overlong form, a sequence cut short.
_BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82"]

KEY = base64.b64encode(b"0123456789abcdef")
HANDSHAKE = (
    b"GET /ws?q=1 HTTP/1.1\r\nHost: example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@dataclass
class Frame:
    """One frame as a client sends it."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    mask: bytes | None = b"\x00\x00\x00\x00"  # None: unmasked (a protocol error from a client)
    length_bytes: int = 0  # 0: minimal; 2 or 8: the extended length, even when not needed

    def encode(self) -> bytes:
        first = (0x80 if self.fin else 0) | (self.rsv << 4) | self.opcode
        mask_bit = 0x80 if self.mask is not None else 0
        length = len(self.payload)
        size = self.length_bytes or (0 if length < 126 else 2 if length < 65536 else 8)
        if size == 0:
            head = bytes([first, mask_bit | length])
        elif size == 2:
            head = bytes([first, mask_bit | 126]) + struct.pack("!H", length)
        else:
            head = bytes([first, mask_bit | 127]) + struct.pack("!Q", length)
        if self.mask is None:
            return head + self.payload
        key = self.mask
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(self.payload))

    @property
    def non_minimal(self) -> bool:
        length = len(self.payload)
        return (self.length_bytes == 2 and length < 126) or (self.length_bytes == 8 and length < 65536)


@dataclass
class Message:
    """A valid message, and the frames it was sent in (pings and pongs between them)."""

    text: bool
    data: bytes
    frames: list[Frame]

    def asgi(self) -> dict[str, Any]:
        if self.text:
            return {"type": "websocket.receive", "text": self.data.decode()}
        return {"type": "websocket.receive", "bytes": self.data}


@dataclass
class Session:
    """What the client sends after the handshake, and what the server owes."""

    items: list[Message | Frame]  # valid messages, and pings and pongs between them
    fault: tuple[str, list[Frame], int] | None  # (name, frames, the close code the server must send)
    close: Frame | None  # the client's close frame (when no fault)
    junk: bytes  # after the fault or the close: must be ignored
    cuts: list[int]
    ending: str  # after everything: "go-away", "half-close" or "linger" (past the close timeout)

    @property
    def data(self) -> bytes:
        parts = [HANDSHAKE]
        for item in self.items:
            parts += [frame.encode() for frame in (item.frames if isinstance(item, Message) else [item])]
        if self.fault is not None:
            parts += [frame.encode() for frame in self.fault[1]]
        elif self.close is not None:
            parts.append(self.close.encode())
        parts.append(self.junk)
        return b"".join(parts)

    def chunks(self) -> list[bytes]:
        data = self.data
        edges = [0, *sorted({c for c in self.cuts if 0 < c < len(data)}), len(data)]
        return [data[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]

    @property
    def frames(self) -> list[Frame]:
        frames: list[Frame] = []
        for item in self.items:
            frames += item.frames if isinstance(item, Message) else [item]
        return frames

    @property
    def lenient(self) -> int | None:
        """Index in :attr:`items` of the first item with a non-minimal length, if any."""
        for index, item in enumerate(self.items):
            frames = item.frames if isinstance(item, Message) else [item]
            if any(frame.non_minimal for frame in frames):
                return index
        return None

    def expected(self, strict_lengths: bool) -> tuple[list[dict[str, Any]], list[bytes], int | None, str]:
        """``(messages, ping payloads, server close code, disconnect reason)``.

        ``strict_lengths``: a non-minimal length is a protocol error (1002) rather than accepted.
        """
        items = self.items
        if strict_lengths and (first := self.lenient) is not None:
            items = items[:first]
            pings = self._pings(items) + self._pings_before_non_minimal(self.items[first])
            return self._messages(items), pings, 1002, ""
        messages, pings = self._messages(items), self._pings(items)
        if self.fault is not None:
            return messages, pings, self.fault[2], ""
        if self.close is not None:
            payload = self.close.payload
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            return messages, pings, code, payload[2:].decode()
        return messages, pings, None, ""

    @staticmethod
    def _messages(items: list[Message | Frame]) -> list[dict[str, Any]]:
        return [item.asgi() for item in items if isinstance(item, Message)]

    @staticmethod
    def _pings(items: list[Message | Frame]) -> list[bytes]:
        frames: list[Frame] = []
        for item in items:
            frames += item.frames if isinstance(item, Message) else [item]
        return [frame.payload for frame in frames if frame.opcode == PING]

    @staticmethod
    def _pings_before_non_minimal(item: Message | Frame) -> list[bytes]:
        frames = item.frames if isinstance(item, Message) else [item]
        pings = []
        for frame in frames:
            if frame.non_minimal:
                break
            if frame.opcode == PING:
                pings.append(frame.payload)
        return pings

    def note_events(self, event: Any) -> None:
        event(f"{sum(isinstance(i, Message) for i in self.items)} messages")
        event(f"fault: {self.fault[0] if self.fault else None}")
        event(f"close: {self.close is not None}")
        event(f"non-minimal length: {self.lenient is not None}")
        event(f"ending: {self.ending}")


# ---------------------------------------------------------------- generation


def _mask(rnd: random.Random) -> bytes:
    return rnd.choice([b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", rnd.randbytes(4), rnd.randbytes(4)])


def _frame(rnd: random.Random, opcode: int, payload: bytes, fin: bool = True, lengths: bool = False) -> Frame:
    length_bytes = rnd.choice([0, 0, 0, 0, 0, 0, 2, 8]) if lengths else 0
    if length_bytes == 2 and len(payload) >= 65536:
        length_bytes = 8
    return Frame(opcode, payload, fin, mask=_mask(rnd), length_bytes=length_bytes)


def _control(rnd: random.Random) -> Frame:
    return _frame(rnd, rnd.choice([PING, PING, PONG]), rnd.randbytes(rnd.randrange(126)))


def _split(rnd: random.Random, data: bytes, pieces: int) -> list[bytes]:
    """``data`` in ``pieces`` parts, cut anywhere (inside a UTF-8 character too); parts may be empty."""
    edges = sorted(rnd.randint(0, len(data)) for _ in range(pieces - 1))
    return [data[a:b] for a, b in zip([0, *edges], [*edges, len(data)], strict=True)]


def _message(
    draw: st.DrawFn, rnd: random.Random, data: bytes, text: bool, controls: bool = True, lengths: bool = True
) -> Message:
    """``data`` in 1 to 5 frames; ``controls``: pings and pongs between; ``lengths``: some non-minimal."""
    pieces = draw(st.sampled_from([1, 1, 1, 2, 3, 5]))
    frames = []
    for index, piece in enumerate(_split(rnd, data, pieces)):
        opcode = (TEXT if text else BINARY) if index == 0 else CONT
        frames.append(_frame(rnd, opcode, piece, fin=index == pieces - 1, lengths=lengths))
        if controls and index < pieces - 1 and rnd.randrange(3) == 0:
            frames.append(_control(rnd))
    return Message(text, data, frames)


_texts = st.text(max_size=60).map(str.encode).filter(lambda b: len(b) <= MAX_SIZE)
_short_texts = st.text(max_size=40).map(str.encode)  # at most 160 bytes: bad bytes added stay under MAX_SIZE
_binaries = st.binary(max_size=MAX_SIZE) | st.binary(min_size=MAX_SIZE - 2, max_size=MAX_SIZE)


def _valid_item(draw: st.DrawFn, rnd: random.Random, lengths: bool) -> Message | Frame:
    kind = draw(st.sampled_from(["text", "text", "binary", "binary", "control"]))
    if kind == "control":
        return _control(rnd)
    text = kind == "text"
    return _message(draw, rnd, draw(_texts if text else _binaries), text, lengths=lengths)


def _fault(draw: st.DrawFn, rnd: random.Random, kind: str | None) -> tuple[str, list[Frame], int]:
    if kind is None:
        kind = draw(st.sampled_from(FAULTS))
    frames, code = _FAULTS[kind](draw, rnd)
    return kind, frames, code


def _unmasked(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    return [Frame(rnd.choice([TEXT, BINARY, PING]), b"hi", mask=None)], 1002


def _reserved_bits(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    frame = _frame(rnd, rnd.choice([TEXT, BINARY, PING, CONT]), b"x")
    frame.rsv = draw(st.integers(1, 7))
    return [frame], 1002


def _reserved_opcode(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    return [_frame(rnd, draw(st.sampled_from([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])), b"x")], 1002


def _fragmented_control(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    return [_frame(rnd, rnd.choice([PING, PONG, CLOSE]), b"", fin=False)], 1002


def _long_control(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    return [_frame(rnd, rnd.choice([PING, PONG]), b"p" * draw(st.integers(126, 199)))], 1002


def _orphan_continuation(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    return [_frame(rnd, CONT, b"x", fin=draw(st.booleans()))], 1002


def _interrupted_message(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    first, second = draw(st.sampled_from([TEXT, BINARY])), draw(st.sampled_from([TEXT, BINARY]))
    return [_frame(rnd, first, b"a", fin=False), _frame(rnd, second, b"b")], 1002


def _bad_utf8(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    good = draw(_short_texts)
    position = rnd.randint(0, len(good))
    while 0 < position < len(good) and (good[position] & 0xC0) == 0x80:
        position -= 1  # between two characters, so that only the inserted bytes are wrong
    data = good[:position] + draw(st.sampled_from(_BAD_UTF8)) + good[position:]
    return _message(draw, rnd, data, text=True, controls=False, lengths=False).frames, 1007


def _too_big(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    data = b"x" * draw(st.integers(MAX_SIZE + 1, 2 * MAX_SIZE))
    return _message(draw, rnd, data, text=draw(st.booleans()), controls=False, lengths=False).frames, 1009


def _bad_close(draw: st.DrawFn, rnd: random.Random) -> tuple[list[Frame], int]:
    kind = draw(st.sampled_from(["code", "one-byte", "reason", "long"]))
    if kind == "code":
        payload, code = struct.pack("!H", draw(st.sampled_from(INVALID_CLOSE_CODES))), 1002
    elif kind == "one-byte":
        payload, code = b"\x03", 1002
    elif kind == "reason":
        payload, code = struct.pack("!H", 1000) + b"ok" + draw(st.sampled_from(_BAD_UTF8)), 1007
    else:
        payload, code = struct.pack("!H", 1000) + b"r" * draw(st.integers(124, 150)), 1002
    return [_frame(rnd, CLOSE, payload)], code


_FAULTS = {
    "unmasked": _unmasked,
    "reserved-bits": _reserved_bits,
    "reserved-opcode": _reserved_opcode,
    "fragmented-control": _fragmented_control,
    "long-control": _long_control,
    "orphan-continuation": _orphan_continuation,
    "interrupted-message": _interrupted_message,
    "bad-utf8": _bad_utf8,
    "too-big": _too_big,
    "bad-close": _bad_close,
}


#: The faults, by name.
FAULTS = sorted(_FAULTS)


@st.composite
def sessions(draw: st.DrawFn, fault_kind: str | None = None) -> Session:
    """A WebSocket session's worth of client frames, split into chunks.

    ``fault_kind``: it always ends with that fault (see FAULTS).
    """
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    lengths = draw(st.integers(0, 3)) == 0  # some lengths written in more bytes than needed
    items = [_valid_item(draw, rnd, lengths) for _ in range(draw(st.integers(0, 8)))]
    end = "fault" if fault_kind else draw(st.sampled_from(["fault", "fault", "close", "close", "nothing"]))
    fault = _fault(draw, rnd, fault_kind) if end == "fault" else None
    close = None
    if end == "close":
        payload = b""
        if draw(st.integers(0, 4)):
            reason = draw(st.text(max_size=20)).encode()[:123]
            reason = reason.decode(errors="ignore").encode()  # a cut may have split a character
            payload = struct.pack("!H", draw(st.sampled_from(VALID_CLOSE_CODES))) + reason
        close = _frame(rnd, CLOSE, payload)
    junk = b""
    if end != "nothing" and draw(st.booleans()):
        junk = (
            _frame(rnd, TEXT, b"after").encode()
            if draw(st.booleans())
            else rnd.randbytes(rnd.randrange(1, 40))
        )
    session = Session(
        items, fault, close, junk, [], draw(st.sampled_from(["go-away", "half-close", "linger"]))
    )
    length = len(session.data)
    split = draw(st.sampled_from(["one", "bytes", "fixed", "random"]))
    if split == "bytes":
        session.cuts = list(range(1, length, 1 + length // 600))
    elif split == "fixed":
        size = draw(st.integers(2, 64))
        session.cuts = list(range(size, length, size))
    elif split == "random":
        session.cuts = [rnd.randint(1, length) for _ in range(draw(st.integers(1, 12)))]
    return session


# ---------------------------------------------------------------- reading the server's frames


@dataclass
class ServerFrame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes


@dataclass
class ServerOutput:
    """What the server wrote: its handshake response, then its frames."""

    status: int
    head: bytes
    frames: list[ServerFrame] = field(default_factory=list)
    rest: bytes = b""


def parse_server_frames(data: bytes) -> ServerOutput:
    """Split ``data`` into the handshake response and the frames after it (which must be unmasked)."""
    end = data.find(b"\r\n\r\n")
    assert end != -1, f"no complete handshake response in {data[:200]!r}"
    head = data[: end + 4]
    output = ServerOutput(int(head.split(b" ", 2)[1]), head)
    position = end + 4
    while position + 2 <= len(data):
        first, second = data[position], data[position + 1]
        assert not second & 0x80, "the server masked a frame"
        length, start = second & 0x7F, position + 2
        if length == 126:
            length, start = struct.unpack("!H", data[start : start + 2])[0], start + 2
        elif length == 127:
            length, start = struct.unpack("!Q", data[start : start + 8])[0], start + 8
        if start + length > len(data):
            break
        output.frames.append(
            ServerFrame(bool(first & 0x80), (first >> 4) & 7, first & 0x0F, data[start : start + length])
        )
        position = start + length
    output.rest = data[position:]
    return output
