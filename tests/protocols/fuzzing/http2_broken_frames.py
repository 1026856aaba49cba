"""Broken HTTP/2 frames (sizes, stream ids, closed streams, flow control, SETTINGS, padding, priority,
trailers), hand-built, each with the answers each engine may give (see ``http2_answers``)."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from tests.protocols.fuzzing.http2_answers import (
    ENGINES,
    IGNORED,
    Answer,
    Broken,
    every,
    header_frame,
    request,
)
from tests.protocols.fuzzing.http2_frames import (
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
from tests.protocols.fuzzing.http2_requests import Client

__all__ = ["FRAME_BREAKERS"]


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
            lambda c, s: header_frame(c, s, request(), END_HEADERS) + frame(RST_STREAM, 0, s, bytes(5)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "PRIORITY of 4 bytes": (
            lambda c, s: frame(PRIORITY, 0, s, bytes(4)),
            {("stream", FRAME_SIZE_ERROR), ("connection", FRAME_SIZE_ERROR)},
        ),
        "HEADERS over the frame size": (  # over limit_request_head_size too: the frame guard answers
            lambda c, s: frame(
                HEADERS, END_STREAM | END_HEADERS, s, c.encoder.encode(request()) + bytes(16384)
            ),
            {("connection", ENHANCE_YOUR_CALM)},
        ),
        "PING over the frame size": (
            lambda c, s: frame(PING, 0, 0, bytes(16385)),
            {("connection", FRAME_SIZE_ERROR)},
        ),
        "DATA over the frame size": (
            lambda c, s: (
                header_frame(c, s, request(method=b"POST"), END_HEADERS) + frame(DATA, 0, s, bytes(16385))
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
        return header_frame(client, stream_id + 2, request(b"/later")) + header_frame(
            client, stream_id, request()
        )

    variants: dict[str, Callable[[Client, int], bytes]] = {
        "DATA on stream 0": lambda c, s: frame(DATA, END_STREAM, 0, b"x"),
        "HEADERS on stream 0": lambda c, s: header_frame(c, 0, request()),
        "HEADERS on an even stream": lambda c, s: header_frame(c, s + 1, request()),
        "SETTINGS on a stream": lambda c, s: frame(SETTINGS, 0, s, b""),
        "PING on a stream": lambda c, s: frame(PING, 0, s, bytes(8)),
        "GOAWAY on a stream": lambda c, s: frame(GOAWAY, 0, s, bytes(8)),
        "RST_STREAM on stream 0": lambda c, s: frame(RST_STREAM, 0, 0, bytes(4)),
        "PRIORITY on stream 0": lambda c, s: frame(PRIORITY, 0, 0, bytes(5)),
        "WINDOW_UPDATE on an idle stream": lambda c, s: frame(WINDOW_UPDATE, 0, s, b"\x00\x00\x00\x01"),
        "RST_STREAM on an idle stream": lambda c, s: frame(RST_STREAM, 0, s, bytes(4)),
        "DATA on an idle stream": lambda c, s: frame(DATA, END_STREAM, s, b"x"),
        "CONTINUATION without HEADERS": lambda c, s: frame(
            CONTINUATION, END_HEADERS, s, c.encoder.encode(request())
        ),
        "HEADERS on a stream below one opened": lower,
        "PUSH_PROMISE from the client": lambda c, s: frame(
            PUSH_PROMISE, END_HEADERS, s, (s + 1).to_bytes(4, "big")
        ),
    }
    variant = draw(st.sampled_from(sorted(variants)))
    answers = every(("connection", PROTOCOL_ERROR))
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
            return header_frame(client, stream_id, request()) + frame(DATA, 0, stream_id, b"late")
        if variant == "HEADERS after trailers":
            head = header_frame(client, stream_id, request(method=b"POST"), END_HEADERS)
            trailers = header_frame(client, stream_id, [(b"x-trailer", b"1")])
            return head + trailers + header_frame(client, stream_id, [(b"x-again", b"1")])
        head = header_frame(client, stream_id, request(method=b"POST"), END_HEADERS)
        return (
            head
            + frame(RST_STREAM, 0, stream_id, (8).to_bytes(4, "big"))
            + frame(DATA, 0, stream_id, b"late")
        )

    # RFC 9113 5.1, 6.1: a stream error STREAM_CLOSED, or (closed stream) a connection error of that type.
    answers = every(("stream", STREAM_CLOSED), ("connection", STREAM_CLOSED))
    if variant == "HEADERS after trailers":
        answers["zttp"] = {("connection", PROTOCOL_ERROR)}  # zttp: a second trailer block is malformed
    return Broken("closed-stream", variant, build, answers, app_sees="request")


def _window(draw: st.DrawFn, rnd: random.Random) -> Broken:
    def open_stream(client: Client, stream_id: int) -> bytes:
        return header_frame(client, stream_id, request(method=b"POST"), END_HEADERS)

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
    answers = every(answer)
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
    return Broken("settings", variant, builder, every(("connection", PROTOCOL_ERROR)))


def _padding(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["DATA", "HEADERS"]))

    def build(client: Client, stream_id: int) -> bytes:
        if variant == "DATA":
            head = header_frame(client, stream_id, request(method=b"POST"), END_HEADERS)
            return head + frame(DATA, PADDED | END_STREAM, stream_id, b"\x05abc")
        block = client.encoder.encode(request())
        return frame(HEADERS, PADDED | END_HEADERS | END_STREAM, stream_id, bytes([len(block) + 1]) + block)

    app_sees = "head" if variant == "DATA" else "never"
    return Broken(
        "padding", f"{variant} padded past its end", build, every(("connection", PROTOCOL_ERROR)), app_sees
    )


def _self_dependency(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["HEADERS", "PRIORITY"]))

    def build(client: Client, stream_id: int) -> bytes:
        priority = stream_id.to_bytes(4, "big") + b"\x10"
        if variant == "PRIORITY":
            return frame(PRIORITY, 0, stream_id, priority)
        block = client.encoder.encode(request())
        return frame(HEADERS, END_HEADERS | END_STREAM | PRIORITY_FLAG, stream_id, priority + block)

    # RFC 7540 5.3.1 made it a stream error of type PROTOCOL_ERROR; RFC 9113 deprecates the
    # priority scheme, and zttp ignores priority signals altogether (the request is served).
    ignored: set[Answer] = {("status", 200)} if variant == "HEADERS" else {IGNORED}
    answers = {"h2": {("connection", PROTOCOL_ERROR)}, "zttp": ignored}
    return Broken("self-dependency", variant, build, answers, app_sees="request")


def _trailers(draw: st.DrawFn, rnd: random.Random) -> Broken:
    variant = draw(st.sampled_from(["without END_STREAM", "with a pseudo-header"]))

    def build(client: Client, stream_id: int) -> bytes:
        head = header_frame(client, stream_id, request(method=b"POST"), END_HEADERS) + frame(
            DATA, 0, stream_id, b"ab"
        )
        if variant == "without END_STREAM":
            return head + header_frame(client, stream_id, [(b"x-trailer", b"1")], END_HEADERS)
        return head + header_frame(client, stream_id, [(b":path", b"/again")])

    # RFC 9113 8.1.1: malformed, a stream error. A block without END_STREAM: h2 ends the
    # connection instead (5.4.1 allows it).
    answers = every(("stream", PROTOCOL_ERROR))
    if variant == "without END_STREAM":
        answers["h2"] = {("connection", PROTOCOL_ERROR)}
    return Broken("trailers", variant, build, answers, app_sees="head")


#: The kinds of broken frames, by name (``http2_broken`` adds them to the other kinds).
FRAME_BREAKERS: dict[str, Callable[[st.DrawFn, random.Random], Broken]] = {
    "frame-size": _frame_size,
    "stream-id": _stream_ids,
    "closed-stream": _closed_stream,
    "window": _window,
    "settings": _settings_values,
    "padding": _padding,
    "self-dependency": _self_dependency,
    "trailers": _trailers,
}
