"""The fast path for connections without extensions: plain messages in and out.

Almost all WebSocket traffic is single-frame text and binary messages, and
without an extension (permessage-deflate) each of them is just a header, a
mask and a payload. The libraries read such a frame with general machinery
(websockets: a generator-based parser and several copies of the payload;
wsproto: per-frame objects and a slow unmasking loop), which costs more than
the message itself when it is small, and copies that dominate when it is large.

So on such connections :class:`PlainFrameReader` finds the frame boundaries
itself and takes the *plain* frames: final, masked text or binary frames
outside a fragmented message, with no reserved bit, a minimal length encoding,
at most ``max_size`` bytes and, for text, valid UTF-8. Every other frame
(control frames, fragments, anything malformed or too big) goes to the library
byte for byte and in order, so the library answers it exactly as it would
without this path. The library is handed whole frames, or the rest of a frame
it has started; a plain frame is taken only when the library is between two
frames, so its state never depends on what was taken past it.

A control frame whose header is well formed (final, masked, no reserved bit,
a 7-bit length) is handed whole, in one call, to the codec's *control* reader,
which passes it on to the library: the place where a codec works around what
its library gets wrong about control frames (see the codecs).

Unmasking is the one per-byte cost left. :func:`unmask` is the C function of
the ``websockets`` package when it is installed (``uvicorn[standard]`` brings
it), whichever implementation reads the frames; without it, :func:`xor_unmask`
does it in pure Python, about fifty times slower for a large payload.

Frames out are the same bytes the libraries would write for them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.websockets.codec import CodecEvents, FrameCodec
    from uvicorn.protocols.websockets.handshake import HandshakeRequest

__all__ = ["PlainFrameReader", "PlainFrames", "binary_frame", "text_frame", "unmask", "xor_unmask"]

_FIN_TEXT, _FIN_BINARY = 0x81, 0x82  # FIN set, no reserved bit, opcode 1 or 2
_FIN_CONTROLS = (0x88, 0x89, 0x8A)  # FIN set, no reserved bit: close, ping, pong
_CONTINUATION, _TEXT, _BINARY, _CLOSE = 0x0, 0x1, 0x2, 0x8
_MASKED = 0x80

#: The payload of a frame (a view into the bytes received) and its 4-byte masking key.
Unmask = Callable[[bytes | memoryview, bytes], bytes]

# ------------------------------------------------------------------ frames out

_TEXT_HEADS = [bytes((_FIN_TEXT, length)) for length in range(126)]
_BINARY_HEADS = [bytes((_FIN_BINARY, length)) for length in range(126)]
_HEAD_16 = struct.Struct("!BBH").pack
_HEAD_64 = struct.Struct("!BBQ").pack


def _frame(first_byte: int, short_heads: list[bytes], data: bytes) -> bytes:
    length = len(data)
    if length < 126:
        return short_heads[length] + data
    if length < 65536:
        return _HEAD_16(first_byte, 126, length) + data
    return _HEAD_64(first_byte, 127, length) + data


def binary_frame(data: bytes) -> bytes:
    """One unmasked, final binary frame (a server never masks)."""
    return _frame(_FIN_BINARY, _BINARY_HEADS, data)


def text_frame(text: str) -> bytes:
    """One unmasked, final text frame."""
    return _frame(_FIN_TEXT, _TEXT_HEADS, text.encode())


# ------------------------------------------------------------------ unmasking without C

# _XOR_TABLES[k] maps every byte b to b ^ k, for bytes.translate().
_XOR_TABLES = [bytes(byte ^ key for byte in range(256)) for key in range(256)]
# Below this size one big-integer XOR is the quickest way; above it, converting to
# and from an int costs more than four table lookups over a quarter of the bytes.
_INT_XOR_LIMIT = 512


def xor_unmask(payload: bytes | memoryview, mask: bytes) -> bytes:
    """``payload`` XORed with the repeated 4-byte ``mask``, in pure Python."""
    length = len(payload)
    if length < _INT_XOR_LIMIT:
        repeats, rest = divmod(length, 4)
        key = int.from_bytes(mask * repeats + mask[:rest], "little")
        return (int.from_bytes(payload, "little") ^ key).to_bytes(length, "little")
    data = bytearray(payload)
    # Every fourth byte shares a key byte: one translate per key byte.
    data[0::4] = data[0::4].translate(_XOR_TABLES[mask[0]])
    data[1::4] = data[1::4].translate(_XOR_TABLES[mask[1]])
    data[2::4] = data[2::4].translate(_XOR_TABLES[mask[2]])
    data[3::4] = data[3::4].translate(_XOR_TABLES[mask[3]])
    return bytes(data)


unmask: Unmask
try:
    from websockets.speedups import apply_mask as unmask
except ImportError:  # websockets is not installed, or was built without its C extension
    unmask = xor_unmask


# ------------------------------------------------------------------ frames in


class PlainFrameReader:
    """Splits the bytes of one connection into plain messages and frames for the library.

    ``deliver`` gets an ASGI ``websocket.receive`` event for each plain frame.
    ``library`` gets the bytes of every other frame, except that ``control``
    (if given) gets each control frame with a well-formed header, whole. Both
    return False once the library reads no more frames (closed or failed).
    From then on frames are only skipped, until a close frame is complete:
    ``closed`` is called and :meth:`feed` ends. So after a protocol error the
    server finds the client's reply to its close frame (RFC 6455 7.1.1), even
    behind the rest of an oversized message.
    """

    __slots__ = ("_closed", "_control", "_deliver", "_discarding", "_in_fragments", "_library",
                 "_library_owed", "_max_size", "_needed", "_pending", "_pending_size", "_unmask")  # fmt: skip

    def __init__(
        self,
        max_size: int,
        unmask: Unmask,
        deliver: Callable[[dict[str, Any]], None],
        library: Callable[[bytes], bool],
        closed: Callable[[], None] = lambda: None,
        control: Callable[[bytes], bool] | None = None,
    ) -> None:
        self._max_size = max_size
        self._control = library if control is None else control
        self._closed = closed
        self._discarding = False  # the library reads no more: skip to a close frame
        self._unmask = unmask
        self._deliver = deliver
        self._library = library
        # The start of an incomplete frame, in pieces, and how many bytes it needs
        # before it can be read further (its header, or the whole frame).
        self._pending: list[bytes | memoryview] = []
        self._pending_size = 0
        self._needed = 0
        self._library_owed = 0  # bytes still due to the library for a frame it has started
        self._in_fragments = False  # the library is inside a fragmented message

    def feed(self, data: bytes, take: bool) -> bool:
        """Read ``data``; plain frames are taken only if ``take`` (the session is OPEN).

        False once a close frame was found after the library stopped.
        """
        if self._pending:
            self._pending.append(data)
            self._pending_size += len(data)
            if self._pending_size < self._needed:
                return True  # still incomplete: its pieces are joined once, when it is whole
            data = b"".join(self._pending)
            self._pending = []
        position, end = 0, len(data)
        while position < end:
            if self._library_owed:
                stop = min(end, position + self._library_owed)
                self._library_owed -= stop - position
                if not self._discarding and not self._library(
                    data[position:stop] if position or stop < end else data
                ):
                    self._discarding = True
                position = stop
                continue

            available = end - position
            if available < 2:
                self._keep(data, position, 2)
                return True
            first, second = data[position], data[position + 1]
            code = second & 0x7F
            start = position + (6 if second & _MASKED else 2)  # past the header and the mask
            length = code
            if code == 126:
                start += 2
                if available >= 4:
                    length = (data[position + 2] << 8) | data[position + 3]
            elif code == 127:
                start += 8
                if available >= 10:
                    length = int.from_bytes(data[position + 2 : position + 10], "big")
            if start > end:
                self._keep(data, position, start - position)
                return True
            stop = start + length

            if self._discarding:
                if first & 0x0F == _CLOSE:
                    if stop > end:
                        self._keep(data, position, stop - position)
                        return True
                    self._closed()
                    return False
                self._library_owed = stop - min(stop, end)
                position = min(stop, end)
                continue

            if (
                take
                and not self._discarding
                and first in (_FIN_BINARY, _FIN_TEXT)
                and second & _MASKED
                and not self._in_fragments
                and length <= self._max_size
                # wsproto refuses a length that would fit a shorter encoding; websockets does not.
                and (code < 126 or length >= (126 if code == 126 else 65536))
            ):
                if stop > end:
                    self._keep(data, position, stop - position)
                    return True
                payload = self._unmask(memoryview(data)[start:stop], data[start - 4 : start])
                if first == _FIN_BINARY:
                    self._deliver({"type": "websocket.receive", "bytes": payload})
                else:
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        # Not plain after all: the library fails the connection in its own words.
                        self._discarding = not self._library(data[position:stop])
                    else:
                        self._deliver({"type": "websocket.receive", "text": text})
                position = stop
                continue

            opcode = first & 0x0F
            if opcode in (_TEXT, _BINARY, _CONTINUATION):
                self._in_fragments = not first & 0x80
            elif first in _FIN_CONTROLS and second & _MASKED and code < 126:
                if stop > end:
                    self._keep(data, position, stop - position)  # at most 131 bytes
                    return True
                if not self._control(data[position:stop] if position or stop < end else data):
                    self._discarding = True
                position = stop
                continue
            stop = min(stop, end)
            self._library_owed = start + length - stop
            if not self._library(data[position:stop] if position or stop < end else data):
                self._discarding = True
            position = stop
        return True

    def _keep(self, data: bytes, position: int, needed: int) -> None:
        """Hold an incomplete frame from ``position`` until ``needed`` bytes of it are in."""
        # A view, not a slice: the bytes are copied once, by the join in feed().
        self._pending = [memoryview(data)[position:] if position else data]
        self._pending_size = len(data) - position
        self._needed = needed


class PlainFrames:
    """A library codec behind a :class:`PlainFrameReader`: every connection reads through one.

    With ``plain`` (no extension agreed) plain messages are read by the reader and
    written by :func:`text_frame` / :func:`binary_frame`; everything else (control
    frames, fragments, errors, our close and pings) is the library's. Without it
    (permessage-deflate) every frame is the library's, and the reader only keeps
    track of frame boundaries, so that after a protocol error it can find the
    client's close frame for any connection. ``control`` is the codec's reader
    of whole control frames (see :class:`PlainFrameReader`); by default the
    library's ``receive``.
    """

    __slots__ = ("_events", "_library", "_plain", "_reader", "encode_bytes", "encode_text", "log")

    def __init__(
        self,
        library: FrameCodec,
        max_size: int,
        events: CodecEvents,
        plain: bool,
        control: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.log = library.log
        self._library = library
        self._events = events
        self._reader = PlainFrameReader(
            max_size, unmask, events.deliver, library.receive, events.close_frame_after_failure, control
        )
        self.encode_text: Callable[[str], bytes] = text_frame if plain else library.encode_text
        self.encode_bytes: Callable[[bytes], bytes] = binary_frame if plain else library.encode_bytes
        self._plain = plain

    def negotiate(self, request: HandshakeRequest) -> list[tuple[bytes, bytes]]:
        return self._library.negotiate(request)

    def start(self, events: CodecEvents) -> FrameCodec:
        return self

    def receive(self, data: bytes) -> bool:
        return self._reader.feed(data, self._plain and self._events.taking_messages())

    def encode_close(self, code: int, reason: str) -> bytes:
        return self._library.encode_close(code, reason)

    def encode_ping(self, payload: bytes) -> bytes:
        return self._library.encode_ping(payload)
