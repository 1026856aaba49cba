"""Valid HTTP/2 requests for fuzzing, encoded by a real client (the h2 library), and what the app must see.

:func:`new_client` is an h2 client connection with the SETTINGS a conversation
chose; :class:`H2Request` is one request (method, path and query, fields, a
body, trailers) and what the echo app must answer it; :class:`RequestSteps` are
the client's actions for one request (HEADERS, maybe split into CONTINUATION
frames, with or without priority; DATA frames of any size up to the windows,
padded or not; trailers; a reset by the client), each giving the bytes h2
encodes for it.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.settings
from hypothesis import strategies as st

from tests.protocols.fuzzing.http1_requests import describe
from tests.protocols.fuzzing.http2_frames import (
    CONTINUATION,
    DEFAULT_WINDOW,
    END_HEADERS,
    HEADERS,
    PRIORITY_FLAG,
    frame,
)

__all__ = [
    "BODY_BUDGET",
    "LIMITS",
    "Client",
    "H2Request",
    "RequestSteps",
    "body_sizes",
    "new_client",
    "request",
]

#: Config options of the fuzzed server: limits small enough to reach.
LIMITS = {
    "limit_request_line": 300,
    "limit_request_fields": 16,
    "limit_request_head_size": 4096,
    "timeout_request_head": 10.0,
    "timeout_keep_alive": 5,
}

_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
_PCHAR = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%"
_TOKEN = string.ascii_lowercase + string.digits + "!#$%&'*+-.^_`|~"
# Field names the server acts on, or HTTP/2 forbids: generated names never use these.
_RESERVED = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection"}
_RESERVED |= {"upgrade", "te", "expect", "x-reply"}
_VALUE_BYTES = list(range(0x21, 0x7F)) * 3 + list(range(0x80, 0x100)) + [0x20] * 10 + [0x09] * 3
#: Request body bytes of one connection: the server's initial connection window (the client never
#: reads the server's WINDOW_UPDATEs, so it may not send more).
BODY_BUDGET = DEFAULT_WINDOW


@dataclass
class H2Request:
    """One valid request on one stream, and what the app must see of it."""

    stream_id: int
    method: str
    raw_path: bytes
    query_string: bytes
    fields: list[tuple[bytes, bytes]]  # regular fields as sent
    body: bytes
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    reset_by_client: bool = False  # the client cancels it (RST_STREAM) after sending its head

    @property
    def path(self) -> bytes:
        return self.raw_path + (b"?" + self.query_string if self.query_string else b"")

    def pseudo_fields(self) -> list[tuple[bytes, bytes]]:
        return [
            (b":method", self.method.encode()),
            (b":scheme", b"http"),
            (b":path", self.path),
            (b":authority", b"example.org"),
        ]

    @property
    def seen_fields(self) -> list[tuple[bytes, bytes]]:
        """The headers as the app gets them: the fields sent, then ``host`` from ``:authority``."""
        return [*self.fields, (b"host", b"example.org")]

    def description(self) -> bytes:
        return describe(self.method, self.raw_path, self.query_string, "2", self.seen_fields, self.body)

    def expected_body(self) -> bytes:
        reply = dict(self.fields).get(b"x-reply")
        return b"" if self.method == "HEAD" or reply == b"empty" else self.description()


Client = h2.connection.H2Connection


def new_client(settings: dict[int, int]) -> Client:
    """An h2 client with these SETTINGS, its preface not yet taken."""
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        normalize_outbound_headers=False,
        validate_outbound_headers=False,
    )
    client = h2.connection.H2Connection(config)
    values = {h2.settings.SettingCodes.ENABLE_PUSH: 0, **settings}
    client.local_settings = h2.settings.Settings(client=True, initial_values=values)  # type: ignore[arg-type]
    client.initiate_connection()
    return client


# ---------------------------------------------------------------- generation


def request(rnd: random.Random, stream_id: int, body_size: int) -> H2Request:
    segments = ["".join(rnd.choices(_PCHAR, k=rnd.randrange(10))) for _ in range(rnd.randrange(4))]
    raw_path = ("/" + "/".join(segments)).encode()
    query = "".join(rnd.choices(_PCHAR + "/?", k=rnd.randrange(15))).encode() if rnd.randrange(2) else b""
    fields = []
    for _ in range(rnd.randrange(6)):
        name = "".join(rnd.choices(_TOKEN, k=rnd.randint(1, 12)))
        if name in _RESERVED or fields and name.encode() in dict(fields):
            continue
        value = bytes(rnd.choice(_VALUE_BYTES) for _ in range(rnd.randrange(30))).strip(b" \t")
        fields.append((name.encode(), value))
    reply = rnd.choice([None, None, b"stream", b"empty", b"whole"])
    if reply is not None:
        fields.append((b"x-reply", reply))
    body = bytes(rnd.randrange(256) for _ in range(body_size))
    if body and rnd.randrange(2):
        fields.insert(rnd.randint(0, len(fields)), (b"content-length", b"%d" % len(body)))
    if rnd.randrange(4) == 0:
        fields.append((b"te", b"trailers"))
    method = rnd.choice(_METHODS)
    trailers = [(b"x-trailer", b"yes")] if body and rnd.randrange(5) == 0 else []
    return H2Request(stream_id, method, raw_path, query, fields, body, trailers)


def body_sizes(draw: st.DrawFn, rnd: random.Random, count: int, budget: int) -> list[int]:
    """Body sizes adding up to ``budget`` at most; sometimes one body fills it exactly."""
    shape = draw(st.sampled_from(["small", "small", "mixed", "fill"]))
    if shape == "fill" and count:
        sizes = [0] * count
        sizes[rnd.randrange(count)] = budget
        return sizes
    if shape == "small":
        return [rnd.choice([0, rnd.randrange(1, 200)]) for _ in range(count)]
    sizes = [rnd.randrange(20000) for _ in range(count)]
    while sum(sizes) > budget:
        sizes[rnd.randrange(count)] //= 2
    return sizes


def _split_block(rnd: random.Random, headers_frame: bytes) -> bytes:
    """The same header block as one HEADERS and CONTINUATION frames (RFC 9113 6.10)."""
    flags = headers_frame[4]
    stream_id = int.from_bytes(headers_frame[5:9], "big")
    payload = headers_frame[9:]
    prefix, block = (payload[:5], payload[5:]) if flags & PRIORITY_FLAG else (b"", payload)
    cuts = sorted({rnd.randint(0, len(block)) for _ in range(rnd.randint(1, 6))})
    pieces = [block[a:b] for a, b in zip([0, *cuts], [*cuts, len(block)], strict=False)]
    first = frame(HEADERS, flags & ~END_HEADERS, stream_id, prefix + pieces[0])
    middle = [frame(CONTINUATION, 0, stream_id, piece) for piece in pieces[1:-1]]
    return first + b"".join(middle) + frame(CONTINUATION, END_HEADERS, stream_id, pieces[-1])


class RequestSteps:
    """The client's actions for one request, each giving the bytes h2 encodes for it."""

    def __init__(self, client: Client, rnd: random.Random, request: H2Request, max_frame: int) -> None:
        self.client = client
        self.rnd = rnd
        self.request = request
        self.max_frame = max_frame
        self.steps: list[tuple[str, Callable[[], bytes]]] = [("HEADERS", self._headers)]
        body = request.body
        position = 0
        while position < len(body):
            size = min(rnd.randint(1, max_frame), len(body) - position)
            self.steps.append(("DATA", self._data(position, size)))
            position += size
        if request.trailers:
            self.steps.append(("trailers", self._trailers))
        if request.reset_by_client:  # after its head, maybe part of its body; nothing after
            self.steps[rnd.randint(1, len(self.steps)) :] = [("RST_STREAM", self._reset)]

    def _headers(self) -> bytes:
        request = self.request
        ends = not request.body and not request.trailers
        priority = {}
        if self.rnd.randrange(4) == 0:
            depends_on = self.rnd.choice([0, *range(1, request.stream_id, 2)])
            priority = {"priority_weight": self.rnd.randint(1, 256), "priority_depends_on": depends_on}
            priority["priority_exclusive"] = self.rnd.randrange(2)
        self.client.send_headers(
            request.stream_id, request.pseudo_fields() + request.fields, end_stream=ends, **priority
        )
        data = self.client.data_to_send()
        if self.rnd.randrange(4) == 0 and len(data) == 9 + int.from_bytes(data[:3], "big"):
            data = _split_block(self.rnd, data)
        return data

    def _data(self, position: int, size: int) -> Callable[[], bytes]:
        def send() -> bytes:
            request = self.request
            last = position + size == len(request.body) and not request.trailers
            window = self.client.local_flow_control_window(request.stream_id)
            pad = self.rnd.randrange(min(256, window - size + 1)) if self.rnd.randrange(5) == 0 else None
            if pad is not None and window - size - pad - 1 < len(request.body) - position - size:
                pad = None  # padding counts against the window the rest of the body needs
            if pad is not None and size + pad + 1 > self.max_frame:
                pad = None
            self.client.send_data(request.stream_id, request.body[position : position + size], last, pad)
            return self.client.data_to_send()

        return send

    def _trailers(self) -> bytes:
        self.client.send_headers(self.request.stream_id, self.request.trailers, end_stream=True)
        return self.client.data_to_send()

    def _reset(self) -> bytes:
        self.client.reset_stream(self.request.stream_id, 0x8)  # CANCEL
        return self.client.data_to_send()
