"""Broken HTTP/2 input for fuzzing, by kind: malformed requests and header blocks here, broken frames in
``http2_broken_frames``; what each engine owes them is in ``http2_answers``."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from hypothesis import strategies as st

from tests.protocols.fuzzing.http2_answers import (
    BROKEN_PATH,
    Answer,
    Broken,
    Fields,
    every,
    header_frame,
    request,
)
from tests.protocols.fuzzing.http2_broken_frames import FRAME_BREAKERS
from tests.protocols.fuzzing.http2_frames import (
    COMPRESSION_ERROR,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    HEADERS,
    PING,
    PROTOCOL_ERROR,
    frame,
)
from tests.protocols.fuzzing.http2_requests import LIMITS, Client

__all__ = ["KINDS", "broken_things"]


# ---------------------------------------------------------------- malformed requests (RFC 9113 8.1.1)

_MALFORMED: dict[str, Fields] = {
    "no :method": [(b":scheme", b"http"), (b":path", BROKEN_PATH), (b":authority", b"example.org")],
    "no :path": [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"example.org")],
    "no :scheme": [(b":method", b"GET"), (b":path", BROKEN_PATH), (b":authority", b"example.org")],
    "empty :path": [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b""), (b":authority", b"x")],
    ":path twice": [*request(), (b":path", b"/again")],
    "pseudo-header after a field": [*request()[:3], (b"x-a", b"b"), (b":authority", b"example.org")],
    "unknown pseudo-header": [*request(), (b":foo", b"bar")],
    ":status in a request": [*request(), (b":status", b"200")],
    ":protocol not offered": [*request(method=b"CONNECT"), (b":protocol", b"websocket")],
    "CONNECT with :path": request(method=b"CONNECT"),
    "uppercase name": [*request(), (b"X-Upper", b"1")],
    "connection": [*request(), (b"connection", b"keep-alive")],
    "keep-alive": [*request(), (b"keep-alive", b"timeout=5")],
    "transfer-encoding": [*request(), (b"transfer-encoding", b"chunked")],
    "upgrade": [*request(), (b"upgrade", b"h2c")],
    "te: gzip": [*request(), (b"te", b"gzip")],
    "space in a name": [*request(), (b"x bad", b"1")],
    "colon in a name": [*request(), (b"x:bad", b"1")],
    "empty name": [*request(), (b"", b"1")],
    "NUL in a value": [*request(), (b"x-bad", b"a\x00b")],
    "LF in a value": [*request(), (b"x-bad", b"a\nb")],
    "CR in a value": [*request(), (b"x-bad", b"a\rb")],
    "leading space in a value": [*request(), (b"x-bad", b" a")],
    "trailing tab in a value": [*request(), (b"x-bad", b"a\t")],
}


def _malformed(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(sorted(_MALFORMED)))
    fields = _MALFORMED[variant]
    return Broken(
        "malformed", variant, lambda c, s: header_frame(c, s, fields), every(("stream", PROTOCOL_ERROR))
    )


def _connect(draw: st.DrawFn, rnd: random.Random) -> Broken:
    """A CONNECT (a tunnel, RFC 9113 8.5): well formed, but the server serves no tunnels."""
    fields = [(b":method", b"CONNECT"), (b":authority", b"example.org:443")]
    # h2 hands it over and it gets the 400 an HTTP/1.1 CONNECT gets; zttp refuses it itself.
    answers = {"h2": {("status", 400)}, "zttp": {("stream", PROTOCOL_ERROR)}}
    return Broken("connect", "tunnel", lambda c, s: header_frame(c, s, fields), answers)


def _content_length(draw: st.DrawFn, rnd: random.Random) -> Broken:
    declared = rnd.randrange(1, 100)
    sent = draw(st.sampled_from([0, declared - 1, declared + 1, declared + 50]))

    def build(client: Client, stream_id: int) -> bytes:
        fields = [*request(method=b"POST"), (b"content-length", b"%d" % declared)]
        head = header_frame(client, stream_id, fields, END_HEADERS)
        return head + frame(DATA, END_STREAM, stream_id, bytes(sent))

    # RFC 9113 8.1.1: a stream error; h2 ends the connection instead (5.4.1 allows it, docs/http2.md).
    answers = {"zttp": {("stream", PROTOCOL_ERROR)}, "h2": {("connection", PROTOCOL_ERROR)}}
    return Broken("content-length", f"{sent} bytes for {declared}", build, answers, app_sees="head")


def _too_many_fields(draw: st.DrawFn, rnd: random.Random) -> Broken:
    count = LIMITS["limit_request_fields"] + draw(st.integers(1, 3))
    fields = [*request(), *[(b"x-%d" % i, b"v") for i in range(count)]]
    return Broken(
        "fields", f"{count} fields", lambda c, s: header_frame(c, s, fields), every(("status", 431))
    )


def _long_path(draw: st.DrawFn, rnd: random.Random) -> Broken:
    over = draw(st.integers(1, 40))
    path = BROKEN_PATH + b"/" + b"p" * (LIMITS["limit_request_line"] - len("GET  HTTP/2") - 8 + over)
    fields = request(path)
    return Broken(
        "path-length", f"{over} over", lambda c, s: header_frame(c, s, fields), every(("status", 414))
    )


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
        block = client.encoder.encode([*request(), *filler])
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
    return Broken("header-block-size", variant, build, every(answer))


def _block_in_many_frames(draw: st.DrawFn, rnd: random.Random) -> Broken:
    def build(client: Client, stream_id: int) -> bytes:
        block = client.encoder.encode(request())
        out = frame(HEADERS, END_STREAM, stream_id, block[:1])
        out += b"".join(frame(CONTINUATION, 0, stream_id, b"") for _ in range(40))
        return out + frame(CONTINUATION, END_HEADERS, stream_id, block[1:])

    return Broken("header-block-frames", "42 frames", build, every(("connection", ENHANCE_YOUR_CALM)))


def _interrupted_block(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(
        st.sampled_from(["PING", "DATA", "HEADERS on another stream", "CONTINUATION on another stream"])
    )

    def build(client: Client, stream_id: int) -> bytes:
        block = client.encoder.encode(request())
        out = frame(HEADERS, END_STREAM, stream_id, block[:2])
        if variant == "PING":
            return out + frame(PING, 0, 0, bytes(8))
        if variant == "DATA":
            return out + frame(DATA, 0, stream_id, b"x")
        if variant == "HEADERS on another stream":
            return out + frame(HEADERS, END_HEADERS | END_STREAM, stream_id + 2, block)
        return out + frame(CONTINUATION, END_HEADERS, stream_id + 2, block[2:])

    return Broken("interrupted-block", variant, build, every(("connection", PROTOCOL_ERROR)))


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
        every(("connection", COMPRESSION_ERROR)),
    )


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
    **FRAME_BREAKERS,
}

#: The kinds of broken input, by name.
KINDS = sorted(_BREAKERS)


def broken_things(draw: st.DrawFn, rnd: random.Random, kind: str) -> Broken:
    """One broken thing of ``kind``."""
    return _BREAKERS[kind](draw, rnd)
