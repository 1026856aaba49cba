"""Valid HTTP/1.1 requests for fuzzing: their bytes, and what the app must see of them.

Requests use any method every parser knows, origin- and absolute-form targets,
header names in any letter case, optional whitespace, visible ASCII and obs-text
in values, ``Content-Length`` or chunked bodies with extensions and trailers,
``Expect: 100-continue``, ``Connection: close`` and HTTP/1.0, and sizes up to
the limits. The limits are small (:data:`LIMITS`) so that sizes at and just over
each one are cheap to generate. :func:`echo_app` answers each request with a
description of what it saw, which the oracle compares with what was sent.
"""

from __future__ import annotations

import dataclasses
import random
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.protocols.conftest import HTTP_PARSERS

__all__ = ["LIMITS", "PARSERS", "TOKEN", "Request", "describe", "echo_app", "requests"]

#: Config options for the fuzzed server: limits small enough to reach.
LIMITS = {
    "limit_request_line": 200,
    "limit_request_fields": 12,
    "limit_request_head_size": 1200,
    "timeout_request_head": 10.0,
    "timeout_keep_alive": 5,
}

#: Every parser the suite tests (the ``http`` fixture): each needs its answers in http1_broken.py.
PARSERS = tuple(HTTP_PARSERS)

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
_PCHAR = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
# Methods every parser knows (llhttp refuses methods outside its list; CONNECT is refused by design).
_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]
# Headers the server acts on; generated headers never use these names by chance.
_SERVER_HEADERS = {
    "x-reply", "host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te"
}  # fmt: skip
# Header value bytes: visible ASCII (often), obs-text, space and tab.
_VALUE_BYTES = list(range(0x21, 0x7F)) * 3 + list(range(0x80, 0x100)) + [0x20] * 20 + [0x09] * 5
_bodies = st.binary(max_size=300) | st.just(b"")


# ---------------------------------------------------------------- the app


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, then answers 200 with a description of the request it saw.

    ``x-reply`` chooses how the answer is sent: ``whole`` (one body message),
    ``stream`` (three messages), or ``empty`` (no body). A client that goes away
    ends it without an answer.
    """
    headers_at_start = list(scope["headers"])
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    description = describe(
        scope["method"],
        scope["raw_path"],
        scope["query_string"],
        scope["http_version"],
        scope["headers"],
        body,
    )
    if list(scope["headers"]) != headers_at_start:
        description += b"\n(the headers changed while the body was read)"
    reply = dict(scope["headers"]).get(b"x-reply", b"whole")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    if reply == b"stream":
        third = len(description) // 3
        await send({"type": "http.response.body", "body": description[:third], "more_body": True})
        await send({"type": "http.response.body", "body": description[third:], "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif reply == b"empty":
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.body", "body": description})


def describe(
    method: str,
    raw_path: bytes,
    query_string: bytes,
    http_version: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> bytes:
    """What :func:`echo_app` answers for a request (and the oracle expects)."""
    lines = [method.encode(), raw_path, query_string, http_version.encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"", body]
    return b"\n".join(lines)


# ---------------------------------------------------------------- requests


@dataclass
class Request:
    """One valid request: its wire form and what the app must see of it."""

    method: str
    target: bytes
    raw_path: bytes  # as the app sees it
    query_string: bytes
    version: str  # "1.1" or "1.0"
    headers: list[tuple[bytes, bytes]]  # as sent: name in its letter case, value with optional whitespace
    body: bytes
    framing: str  # "length", "chunked" or "none"
    chunks: list[tuple[int, bytes]] = field(default_factory=list)  # (size, chunk extension) when chunked
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @property
    def seen_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as the app gets them: names lowercased, values without surrounding whitespace."""
        return [(name.lower(), value.strip(b" \t")) for name, value in self.headers]

    @property
    def closes(self) -> bool:
        """The connection ends after this request's response."""
        if self.version == "1.0":
            return True
        return any(name == b"connection" and b"close" in value.lower() for name, value in self.seen_headers)

    @property
    def expects_continue(self) -> bool:
        return any(name == b"expect" for name, _ in self.seen_headers) and self.version == "1.1"

    @property
    def head_size(self) -> int:
        """The size the server measures (see ``request_head.check_limits``)."""
        return (
            len(self.method) + len(self.target) + 14 + sum(len(n) + len(v) + 4 for n, v in self.seen_headers)
        )

    def head(self) -> bytes:
        line = b"%s %s HTTP/%s\r\n" % (self.method.encode(), self.target, self.version.encode())
        return line + b"".join(name + b":" + value + b"\r\n" for name, value in self.headers) + b"\r\n"

    def encoded_body(self) -> bytes:
        if self.framing != "chunked":
            return self.body
        parts, position = [], 0
        for size, extension in self.chunks:
            piece = self.body[position : position + size]
            position += size
            parts.append(b"%x%s\r\n%s\r\n" % (size, extension, piece))
        parts.append(b"0\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in self.trailers) + b"\r\n")
        return b"".join(parts)

    def encode(self) -> bytes:
        return self.head() + self.encoded_body()

    def description(self) -> bytes:
        return describe(
            self.method, self.raw_path, self.query_string, self.version, self.seen_headers, self.body
        )


def _targets(rnd: random.Random) -> tuple[bytes, bytes, bytes]:
    """``(target, raw_path, query_string)``: origin-form, sometimes absolute-form."""
    segments = []
    for _ in range(rnd.randrange(5)):
        if rnd.randrange(4):
            segments.append("".join(rnd.choices(_PCHAR, k=rnd.randrange(13))))
        else:
            segments.append("%%%02X" % rnd.randrange(256))
    path = "/" + "/".join(segments)
    query = None if rnd.randrange(2) else "".join(rnd.choices(_PCHAR + "/?", k=rnd.randrange(21)))
    origin = path + ("" if query is None else "?" + query)
    raw_path, query_string = path.encode(), (query or "").encode()
    if rnd.randrange(10) == 0:
        return ("http://example.org" + origin).encode(), raw_path, query_string
    return origin.encode(), raw_path, query_string


def _header_name(rnd: random.Random) -> str:
    while True:
        name = "".join(rnd.choices(TOKEN, k=rnd.randint(1, 16)))
        if name.lower() not in _SERVER_HEADERS:
            return name


def _header_value(rnd: random.Random) -> bytes:
    """Visible ASCII and obs-text, with spaces and tabs inside, and optional whitespace around."""
    value = bytes(rnd.choice(_VALUE_BYTES) for _ in range(rnd.randrange(41))).strip(b" \t")
    return rnd.choice([b"", b" ", b" ", b"  ", b"\t", b" \t"]) + value + rnd.choice([b"", b"", b" ", b"\t"])


def _random_case(rnd: random.Random, name: str) -> bytes:
    return "".join(c.upper() if rnd.randrange(2) else c.lower() for c in name).encode()


def requests(draw: st.DrawFn, rnd: random.Random, last: bool = False, near_limits: bool = True) -> Request:
    """A valid request. ``last``: it may close the connection (nothing after it is read).

    ``near_limits``: it may be grown to a limit (see ``_up_to_a_limit``).

    The choices that decide what the server must do are drawn (so hypothesis can
    steer and shrink them); the details that must not matter (letter case,
    whitespace, names and values) come from ``rnd``.
    """
    method = draw(st.sampled_from(_METHODS))
    target, raw_path, query_string = _targets(rnd)
    version = "1.0" if last and draw(st.integers(0, 4)) == 0 else "1.1"
    headers = [
        (_random_case(rnd, _header_name(rnd)), _header_value(rnd)) for _ in range(draw(st.integers(0, 6)))
    ]
    reply = draw(st.sampled_from([None, None, None, b"stream", b"empty", b" whole"]))
    if reply is not None:
        headers.append((_random_case(rnd, "x-reply"), reply))
    if version == "1.1" or draw(st.booleans()):
        headers.insert(rnd.randint(0, len(headers)), (_random_case(rnd, "host"), b" example.org"))
    if draw(st.integers(0, 5)) == 0:
        headers.append((_random_case(rnd, "expect"), b" 100-continue"))
    if last and draw(st.integers(0, 3)) == 0:
        headers.append((_random_case(rnd, "connection"), rnd.choice([b" close", b" keep-alive, Close"])))

    body = draw(_bodies)
    framing = draw(st.sampled_from(["length", "chunked"] if version == "1.1" else ["length"]))
    chunks: list[tuple[int, bytes]] = []
    trailers: list[tuple[bytes, bytes]] = []
    if framing == "chunked":
        position = 0
        while position < len(body):
            size = min(rnd.randint(1, 64), len(body) - position)
            chunks.append((size, rnd.choice([b"", b"", b";ext", b';a=b;c="d"'])))
            position += size
        headers.append((_random_case(rnd, "transfer-encoding"), b" chunked"))
        if draw(st.integers(0, 4)) == 0:
            trailers = [(b"x-trailer", b"yes")]
    elif body or draw(st.booleans()):
        headers.append((_random_case(rnd, "content-length"), b" %d" % len(body)))
    else:
        framing = "none"
    request = Request(
        method, target, raw_path, query_string, version, headers, body, framing, chunks, trailers
    )
    if len(request.headers) > LIMITS["limit_request_fields"] or not _within_limits(request):
        return requests(draw, rnd, last, near_limits)  # rare: make another
    return _up_to_a_limit(draw, request) if near_limits else request


def _up_to_a_limit(draw: st.DrawFn, request: Request) -> Request:
    """Sometimes grow ``request`` to exactly a limit, or a byte or two under it."""
    limit = draw(st.sampled_from(["none", "none", "none", "line", "fields", "size"]))
    under = draw(st.integers(0, 2))
    if limit == "line":
        if not request.target.startswith(b"/"):
            return request  # absolute-form: keep it as it is
        padding = b"p" * (
            LIMITS["limit_request_line"] - (len(request.method) + len(request.target) + 10) - under
        )
        grown = dataclasses.replace(
            request, target=request.raw_path + padding + request.target[len(request.raw_path) :]
        )
        grown.raw_path = request.raw_path + padding
    elif limit == "fields":
        missing = LIMITS["limit_request_fields"] - under - len(request.headers)
        extra = [(b"X-Field-%d" % i, b"v") for i in range(max(0, missing))]
        grown = dataclasses.replace(request, headers=request.headers[:1] + extra + request.headers[1:])
    elif limit == "size":
        room = LIMITS["limit_request_head_size"] - max(len(request.head()), request.head_size) - under - 8
        if room < 0:
            return request
        grown = dataclasses.replace(request, headers=[*request.headers, (b"X-Pad", b" " + b"s" * room)])
    else:
        return request
    return (
        grown if _within_limits(grown) and len(grown.headers) <= LIMITS["limit_request_fields"] else request
    )


def _within_limits(request: Request) -> bool:
    line = len(request.method) + len(request.target) + 10
    raw_head = len(request.head())  # optional whitespace counts while a head is still arriving
    return (
        line <= LIMITS["limit_request_line"]
        and max(raw_head, request.head_size) <= LIMITS["limit_request_head_size"]
    )
