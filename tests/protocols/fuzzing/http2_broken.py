"""Broken HTTP/2 input, hand-built, each with the answers RFC 9113 (and docs/http2.md) allow per engine.

An answer is one of:

- ``("stream", code)``: RST_STREAM with that code on the broken stream; the
  connection goes on serving the other streams;
- ``("connection", code)``: GOAWAY with that code, then the connection closes;
- ``("status", status)``: a response with that status on the broken stream
  (the server's own limits, as on HTTP/1.1); the connection goes on.

The broken thing never reaches the app, except where :attr:`Broken.app_sees`
says so: ``"head"`` (a request whose body breaks the rules: the app may start,
but never gets a complete body) or ``"request"`` (a valid request, then a frame
breaking its stream's state: it may be answered).

Header blocks are encoded with the client's own HPACK encoder, so that the
server's decoder stays in step with it after a stream error.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.protocols.fuzzing.http2_frames import (
    COMPRESSION_ERROR,
    CONTINUATION,
    DATA,
    ENABLE_PUSH,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    FLOW_CONTROL_ERROR,
    FRAME_SIZE_ERROR,
    GOAWAY,
    HEADERS,
    INITIAL_WINDOW_SIZE,
    MAX_FRAME_SIZE,
    PADDED,
    PING,
    PRIORITY,
    PRIORITY_FLAG,
    PROTOCOL_ERROR,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    STREAM_CLOSED,
    WINDOW_UPDATE,
    frame,
    settings_payload,
)
from tests.protocols.fuzzing.http2_requests import LIMITS, Client

__all__ = ["ENGINES", "KINDS", "Answer", "Broken", "broken_things"]

ENGINES = ("h2", "zttp")
Answer = tuple[str, int]
#: The answer of a server that ignores the broken thing (nothing on its stream, the connection goes on).
IGNORED: Answer = ("ignored", 0)
Fields = list[tuple[bytes, bytes]]

#: The path of every request the broken thing makes (the app must never see it, see app_sees).
BROKEN_PATH = b"/broken"


@dataclass
class Broken:
    """One broken thing: how to build its bytes, and the answers each engine may give."""

    name: str
    variant: str
    builder: Callable[[Client, int], bytes]  # (the client, the stream id it may open) -> bytes
    answers: dict[str, set[Answer]]
    app_sees: str = "never"  # "never", "head" or "request"

    stream_id: int | None = None  # the stream id it was given, once built

    def build(self, client: Client, stream_id: int) -> bytes:
        self.stream_id = stream_id
        return self.builder(client, stream_id)

    def allowed(self, engine: str) -> set[Answer]:
        return self.answers[engine]

    @property
    def ends_connection_with_all(self) -> bool:
        """Every engine ends the connection: nothing after it is ever read."""
        return all(all(kind == "connection" for kind, _ in answers) for answers in self.answers.values())

    @property
    def ends_connection_with_some(self) -> bool:
        """Some engine may end the connection, another may go on."""
        may_end = [any(kind == "connection" for kind, _ in answers) for answers in self.answers.values()]
        return any(may_end) and not self.ends_connection_with_all


def _every(*answers: Answer) -> dict[str, set[Answer]]:
    return {engine: set(answers) for engine in ENGINES}


def _request(path: bytes = BROKEN_PATH, method: bytes = b"GET") -> Fields:
    return [(b":method", method), (b":scheme", b"http"), (b":path", path), (b":authority", b"example.org")]


def _headers(client: Client, stream_id: int, fields: Fields, flags: int = END_STREAM | END_HEADERS) -> bytes:
    return frame(HEADERS, flags, stream_id, client.encoder.encode(fields))


# ---------------------------------------------------------------- malformed requests (RFC 9113 8.1.1)

_MALFORMED: dict[str, Fields] = {
    "no :method": [(b":scheme", b"http"), (b":path", BROKEN_PATH), (b":authority", b"example.org")],
    "no :path": [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"example.org")],
    "no :scheme": [(b":method", b"GET"), (b":path", BROKEN_PATH), (b":authority", b"example.org")],
    "empty :path": [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b""), (b":authority", b"x")],
    ":path twice": [*_request(), (b":path", b"/again")],
    "pseudo-header after a field": [*_request()[:3], (b"x-a", b"b"), (b":authority", b"example.org")],
    "unknown pseudo-header": [*_request(), (b":foo", b"bar")],
    ":status in a request": [*_request(), (b":status", b"200")],
    ":protocol not offered": [*_request(method=b"CONNECT"), (b":protocol", b"websocket")],
    "CONNECT with :path": _request(method=b"CONNECT"),
    "uppercase name": [*_request(), (b"X-Upper", b"1")],
    "connection": [*_request(), (b"connection", b"keep-alive")],
    "keep-alive": [*_request(), (b"keep-alive", b"timeout=5")],
    "transfer-encoding": [*_request(), (b"transfer-encoding", b"chunked")],
    "upgrade": [*_request(), (b"upgrade", b"h2c")],
    "te: gzip": [*_request(), (b"te", b"gzip")],
    "space in a name": [*_request(), (b"x bad", b"1")],
    "colon in a name": [*_request(), (b"x:bad", b"1")],
    "empty name": [*_request(), (b"", b"1")],
    "NUL in a value": [*_request(), (b"x-bad", b"a\x00b")],
    "LF in a value": [*_request(), (b"x-bad", b"a\nb")],
    "CR in a value": [*_request(), (b"x-bad", b"a\rb")],
    "leading space in a value": [*_request(), (b"x-bad", b" a")],
    "trailing tab in a value": [*_request(), (b"x-bad", b"a\t")],
}


def _malformed(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(sorted(_MALFORMED)))
    fields = _MALFORMED[variant]
    return Broken(
        "malformed", variant, lambda c, s: _headers(c, s, fields), _every(("stream", PROTOCOL_ERROR))
    )


def _connect(draw: st.DrawFn, rnd: random.Random) -> Broken:
    """A CONNECT (a tunnel, RFC 9113 8.5): well formed, but the server serves no tunnels."""
    fields = [(b":method", b"CONNECT"), (b":authority", b"example.org:443")]
    # h2 hands it over and it gets the 400 an HTTP/1.1 CONNECT gets; zttp refuses it itself.
    answers = {"h2": {("status", 400)}, "zttp": {("stream", PROTOCOL_ERROR)}}
    return Broken("connect", "tunnel", lambda c, s: _headers(c, s, fields), answers)


def _content_length(draw: st.DrawFn, rnd: random.Random) -> Broken:
    declared = rnd.randrange(1, 100)
    sent = draw(st.sampled_from([0, declared - 1, declared + 1, declared + 50]))

    def build(client: Client, stream_id: int) -> bytes:
        fields = [*_request(method=b"POST"), (b"content-length", b"%d" % declared)]
        head = _headers(client, stream_id, fields, END_HEADERS)
        return head + frame(DATA, END_STREAM, stream_id, bytes(sent))

    # RFC 9113 8.1.1: a stream error; h2 ends the connection instead (5.4.1 allows it, docs/http2.md).
    answers = {"zttp": {("stream", PROTOCOL_ERROR)}, "h2": {("connection", PROTOCOL_ERROR)}}
    return Broken("content-length", f"{sent} bytes for {declared}", build, answers, app_sees="head")


def _too_many_fields(draw: st.DrawFn, rnd: random.Random) -> Broken:
    count = LIMITS["limit_request_fields"] + draw(st.integers(1, 3))
    fields = [*_request(), *[(b"x-%d" % i, b"v") for i in range(count)]]
    return Broken("fields", f"{count} fields", lambda c, s: _headers(c, s, fields), _every(("status", 431)))


def _long_path(draw: st.DrawFn, rnd: random.Random) -> Broken:
    over = draw(st.integers(1, 40))
    path = BROKEN_PATH + b"/" + b"p" * (LIMITS["limit_request_line"] - len("GET  HTTP/2") - 8 + over)
    fields = _request(path)
    return Broken("path-length", f"{over} over", lambda c, s: _headers(c, s, fields), _every(("status", 414)))


# ---------------------------------------------------------------- header blocks


def _block_too_large(draw: st.DrawFn, rnd: random.Random) -> Broken:
    """A header block over limit_request_head_size: compressed (the frames' bytes), or only once decoded."""
    frames = draw(st.integers(1, 6))
    compressed = draw(st.booleans())
    letters = string.ascii_letters + string.digits

    def build(client: Client, stream_id: int) -> bytes:
        if compressed:  # random letters: HPACK's Huffman code saves little on them
            filler = [(b"x-fill-%d" % i, "".join(rnd.choices(letters, k=1000)).encode()) for i in range(6)]
        else:  # one letter over and over: a third of it once compressed
            filler = [(b"x-fill-%d" % i, b"a" * 1000) for i in range(6)]
        block = client.encoder.encode([*_request(), *filler])
        size = -(-len(block) // frames)
        pieces = [block[i : i + size] for i in range(0, len(block), size)]
        flags = END_HEADERS if len(pieces) == 1 else 0
        out = frame(HEADERS, END_STREAM | flags, stream_id, pieces[0])
        for index, piece in enumerate(pieces[1:], 2):
            out += frame(CONTINUATION, END_HEADERS if index == len(pieces) else 0, stream_id, piece)
        return out

    # The frame guard counts the block's bytes as they come: over the limit, the connection ends
    # (CONTINUATION flood). A block within it whose fields are too large once decoded gets 431.
    answer: Answer = ("connection", ENHANCE_YOUR_CALM) if compressed else ("status", 431)
    variant = f"{'compressed' if compressed else 'decoded'}, {frames} frames"
    return Broken("header-block-size", variant, build, _every(answer))


def _block_in_many_frames(draw: st.DrawFn, rnd: random.Random) -> Broken:
    def build(client: Client, stream_id: int) -> bytes:
        block = client.encoder.encode(_request())
        out = frame(HEADERS, END_STREAM, stream_id, block[:1])
        out += b"".join(frame(CONTINUATION, 0, stream_id, b"") for _ in range(40))
        return out + frame(CONTINUATION, END_HEADERS, stream_id, block[1:])

    return Broken("header-block-frames", "42 frames", build, _every(("connection", ENHANCE_YOUR_CALM)))


def _interrupted_block(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(
        st.sampled_from(["PING", "DATA", "HEADERS on another stream", "CONTINUATION on another stream"])
    )

    def build(client: Client, stream_id: int) -> bytes:
        block = client.encoder.encode(_request())
        out = frame(HEADERS, END_STREAM, stream_id, block[:2])
        if variant == "PING":
            return out + frame(PING, 0, 0, bytes(8))
        if variant == "DATA":
            return out + frame(DATA, 0, stream_id, b"x")
        if variant == "HEADERS on another stream":
            return out + frame(HEADERS, END_HEADERS | END_STREAM, stream_id + 2, block)
        return out + frame(CONTINUATION, END_HEADERS, stream_id + 2, block[2:])

    return Broken("interrupted-block", variant, build, _every(("connection", PROTOCOL_ERROR)))


def _bad_hpack(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant, block = draw(
        st.sampled_from(
            [
                ("index past the table", b"\xff\xff\xff\x0f"),
                ("string longer than the block", b"\x82\x86\x84\x41\x7f\x10ab"),
                ("table size over the limit", b"\x3f\xe1\xff\x03\x82\x86\x84"),
                ("index 0", b"\x80"),
            ]
        )
    )
    return Broken(
        "hpack",
        variant,
        lambda c, s: frame(HEADERS, END_STREAM | END_HEADERS, s, block),
        _every(("connection", COMPRESSION_ERROR)),
    )


# ---------------------------------------------------------------- frames


def _frame_size(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variants: dict[str, tuple[Callable[[Client, int], bytes], set[Answer]]] = {
        "PING of 7 bytes": (lambda c, s: frame(PING, 0, 0, bytes(7)), {("connection", FRAME_SIZE_ERROR)}),
        "PING of 9 bytes": (lambda c, s: frame(PING, 0, 0, bytes(9)), {("connection", FRAME_SIZE_ERROR)}),
        "SETTINGS of 5 bytes": (
            lambda c, s: frame(SETTINGS, 0, 0, bytes(5)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "SETTINGS ACK with a payload": (
            lambda c, s: frame(SETTINGS, 1, 0, bytes(6)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "WINDOW_UPDATE of 3 bytes": (
            lambda c, s: frame(WINDOW_UPDATE, 0, 0, b"\x00\x00\x01"),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "RST_STREAM of 5 bytes": (
            lambda c, s: _headers(c, s, _request(), END_HEADERS) + frame(RST_STREAM, 0, s, bytes(5)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "PRIORITY of 4 bytes": (
            lambda c, s: frame(PRIORITY, 0, s, bytes(4)),
            {("stream", FRAME_SIZE_ERROR), ("connection", FRAME_SIZE_ERROR)},
        ),
        "HEADERS over the frame size": (  # over limit_request_head_size too: the frame guard answers
            lambda c, s: frame(
                HEADERS, END_STREAM | END_HEADERS, s, c.encoder.encode(_request()) + bytes(16384)
            ),
            {("connection", ENHANCE_YOUR_CALM)},
        ),
        "PING over the frame size": (
            lambda c, s: frame(PING, 0, 0, bytes(16385)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "DATA over the frame size": (
            lambda c, s: (
                _headers(c, s, _request(method=b"POST"), END_HEADERS) + frame(DATA, 0, s, bytes(16385))
            ),
            {("stream", FRAME_SIZE_ERROR), ("connection", FRAME_SIZE_ERROR)},
        ),
    }
    variant = draw(st.sampled_from(sorted(variants)))
    builder, answers = variants[variant]
    app_sees = "head" if variant in ("DATA over the frame size", "RST_STREAM of 5 bytes") else "never"
    by_engine = dict.fromkeys(ENGINES, answers)
    if variant == "SETTINGS ACK with a payload":
        by_engine["h2"] = {("connection", PROTOCOL_ERROR)}  # RFC 9113 6.5 says FRAME_SIZE_ERROR
    return Broken("frame-size", variant, builder, by_engine, app_sees)


def _stream_ids(draw: st.DrawFn, rnd: random.Random) -> Broken:
    def lower(client: Client, stream_id: int) -> bytes:
        return _headers(client, stream_id + 2, _request(b"/later")) + _headers(client, stream_id, _request())

    variants: dict[str, Callable[[Client, int], bytes]] = {
        "DATA on stream 0": lambda c, s: frame(DATA, END_STREAM, 0, b"x"),
        "HEADERS on stream 0": lambda c, s: _headers(c, 0, _request()),
        "HEADERS on an even stream": lambda c, s: _headers(c, s + 1, _request()),
        "SETTINGS on a stream": lambda c, s: frame(SETTINGS, 0, s, b""),
        "PING on a stream": lambda c, s: frame(PING, 0, s, bytes(8)),
        "GOAWAY on a stream": lambda c, s: frame(GOAWAY, 0, s, bytes(8)),
        "RST_STREAM on stream 0": lambda c, s: frame(RST_STREAM, 0, 0, bytes(4)),
        "PRIORITY on stream 0": lambda c, s: frame(PRIORITY, 0, 0, bytes(5)),
        "WINDOW_UPDATE on an idle stream": lambda c, s: frame(WINDOW_UPDATE, 0, s, b"\x00\x00\x00\x01"),
        "RST_STREAM on an idle stream": lambda c, s: frame(RST_STREAM, 0, s, bytes(4)),
        "DATA on an idle stream": lambda c, s: frame(DATA, END_STREAM, s, b"x"),
        "CONTINUATION without HEADERS": lambda c, s: frame(
            CONTINUATION, END_HEADERS, s, c.encoder.encode(_request())
        ),
        "HEADERS on a stream below one opened": lower,
        "PUSH_PROMISE from the client": lambda c, s: frame(
            PUSH_PROMISE, END_HEADERS, s, (s + 1).to_bytes(4, "big")
        ),
    }
    variant = draw(st.sampled_from(sorted(variants)))
    answers = _every(("connection", PROTOCOL_ERROR))
    if variant == "PRIORITY on stream 0":
        answers["zttp"] = {IGNORED}  # zttp ignores every PRIORITY frame (RFC 9113 deprecates them)
    app_sees = "request" if variant == "HEADERS on a stream below one opened" else "never"
    return Broken("stream-id", variant, variants[variant], answers, app_sees)


def _closed_stream(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(
        st.sampled_from(["DATA after END_STREAM", "HEADERS after trailers", "DATA after RST_STREAM"])
    )

    def build(client: Client, stream_id: int) -> bytes:
        if variant == "DATA after END_STREAM":
            return _headers(client, stream_id, _request()) + frame(DATA, 0, stream_id, b"late")
        if variant == "HEADERS after trailers":
            head = _headers(client, stream_id, _request(method=b"POST"), END_HEADERS)
            trailers = _headers(client, stream_id, [(b"x-trailer", b"1")])
            return head + trailers + _headers(client, stream_id, [(b"x-again", b"1")])
        head = _headers(client, stream_id, _request(method=b"POST"), END_HEADERS)
        return (
            head
            + frame(RST_STREAM, 0, stream_id, (8).to_bytes(4, "big"))
            + frame(DATA, 0, stream_id, b"late")
        )

    # RFC 9113 5.1, 6.1: a stream error STREAM_CLOSED, or (closed stream) a connection error of that type.
    answers = _every(("stream", STREAM_CLOSED), ("connection", STREAM_CLOSED))
    if variant == "HEADERS after trailers":
        answers["zttp"] = {("connection", PROTOCOL_ERROR)}  # zttp: a second trailer block is malformed
    return Broken("closed-stream", variant, build, answers, app_sees="request")


def _window(draw: st.DrawFn, rnd: random.Random) -> Broken:
    def open_stream(client: Client, stream_id: int) -> bytes:
        return _headers(client, stream_id, _request(method=b"POST"), END_HEADERS)

    variants: dict[str, tuple[Callable[[Client, int], bytes], Answer, str]] = {
        "connection window over 2^31-1": (
            lambda c, s: frame(WINDOW_UPDATE, 0, 0, (2**31 - 1).to_bytes(4, "big")),
            ("connection", FLOW_CONTROL_ERROR),
            "never",
        ),
        "stream window over 2^31-1": (
            lambda c, s: open_stream(c, s) + frame(WINDOW_UPDATE, 0, s, (2**31 - 1).to_bytes(4, "big")),
            ("stream", FLOW_CONTROL_ERROR),
            "head",
        ),
        "connection WINDOW_UPDATE of 0": (
            lambda c, s: frame(WINDOW_UPDATE, 0, 0, bytes(4)),
            ("connection", PROTOCOL_ERROR),
            "never",
        ),
        "stream WINDOW_UPDATE of 0": (
            lambda c, s: open_stream(c, s) + frame(WINDOW_UPDATE, 0, s, bytes(4)),
            ("stream", PROTOCOL_ERROR),
            "head",
        ),
        "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1": (
            lambda c, s: frame(SETTINGS, 0, 0, settings_payload({INITIAL_WINDOW_SIZE: 2**31})),
            ("connection", FLOW_CONTROL_ERROR),
            "never",
        ),
    }
    variant = draw(st.sampled_from(sorted(variants)))
    builder, answer, app_sees = variants[variant]
    answers = _every(answer)
    if variant == "stream WINDOW_UPDATE of 0":
        answers["h2"] = {("connection", PROTOCOL_ERROR)}  # h2 ends the connection (5.4.1 allows it)
    return Broken("window", variant, builder, answers, app_sees)


def _settings_values(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant, values = draw(
        st.sampled_from(
            [
                ("ENABLE_PUSH 2", {ENABLE_PUSH: 2}),
                ("MAX_FRAME_SIZE 16383", {MAX_FRAME_SIZE: 16383}),
                ("MAX_FRAME_SIZE 2^24", {MAX_FRAME_SIZE: 2**24}),
            ]
        )
    )
    builder = lambda c, s: frame(SETTINGS, 0, 0, settings_payload(values))  # noqa: E731
    return Broken("settings", variant, builder, _every(("connection", PROTOCOL_ERROR)))


def _padding(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["DATA", "HEADERS"]))

    def build(client: Client, stream_id: int) -> bytes:
        if variant == "DATA":
            head = _headers(client, stream_id, _request(method=b"POST"), END_HEADERS)
            return head + frame(DATA, PADDED | END_STREAM, stream_id, b"\x05abc")
        block = client.encoder.encode(_request())
        return frame(HEADERS, PADDED | END_HEADERS | END_STREAM, stream_id, bytes([len(block) + 1]) + block)

    app_sees = "head" if variant == "DATA" else "never"
    return Broken(
        "padding", f"{variant} padded past its end", build, _every(("connection", PROTOCOL_ERROR)), app_sees
    )


def _self_dependency(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["HEADERS", "PRIORITY"]))

    def build(client: Client, stream_id: int) -> bytes:
        priority = stream_id.to_bytes(4, "big") + b"\x10"
        if variant == "PRIORITY":
            return frame(PRIORITY, 0, stream_id, priority)
        block = client.encoder.encode(_request())
        return frame(HEADERS, END_HEADERS | END_STREAM | PRIORITY_FLAG, stream_id, priority + block)

    # RFC 7540 5.3.1 made it a stream error of type PROTOCOL_ERROR; RFC 9113 deprecates the
    # priority scheme, and zttp ignores priority signals altogether (the request is served).
    ignored: set[Answer] = {("status", 200)} if variant == "HEADERS" else {IGNORED}
    answers = {"h2": {("connection", PROTOCOL_ERROR)}, "zttp": ignored}
    return Broken("self-dependency", variant, build, answers, app_sees="request")


def _trailers(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["without END_STREAM", "with a pseudo-header"]))

    def build(client: Client, stream_id: int) -> bytes:
        head = _headers(client, stream_id, _request(method=b"POST"), END_HEADERS) + frame(
            DATA, 0, stream_id, b"ab"
        )
        if variant == "without END_STREAM":
            return head + _headers(client, stream_id, [(b"x-trailer", b"1")], END_HEADERS)
        return head + _headers(client, stream_id, [(b":path", b"/again")])

    # RFC 9113 8.1.1: malformed, a stream error. A block without END_STREAM: h2 ends the
    # connection instead (5.4.1 allows it).
    answers = _every(("stream", PROTOCOL_ERROR))
    if variant == "without END_STREAM":
        answers["h2"] = {("connection", PROTOCOL_ERROR)}
    return Broken("trailers", variant, build, answers, app_sees="head")


_BREAKERS: dict[str, Callable[[st.DrawFn, random.Random], Broken]] = {
    "malformed": _malformed,
    "connect": _connect,
    "content-length": _content_length,
    "fields": _too_many_fields,
    "path-length": _long_path,
    "header-block-size": _block_too_large,
    "header-block-frames": _block_in_many_frames,
    "interrupted-block": _interrupted_block,
    "hpack": _bad_hpack,
    "frame-size": _frame_size,
    "stream-id": _stream_ids,
    "closed-stream": _closed_stream,
    "window": _window,
    "settings": _settings_values,
    "padding": _padding,
    "self-dependency": _self_dependency,
    "trailers": _trailers,
}

#: The kinds of broken input, by name.
KINDS = sorted(_BREAKERS)


def broken_things(draw: st.DrawFn, rnd: random.Random, kind: str) -> Broken:
    """One broken thing of ``kind``."""
    return _BREAKERS[kind](draw, rnd)
