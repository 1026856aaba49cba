"""Broken HTTP/1.1 requests, each with the statuses docs/server-behaviour.md promises for it.

Each breaker takes a valid request and breaks one rule (request line, version,
Host, framing headers, header syntax, control characters, limits, chunked
framing); where the parsers answer differently, as documented, each has its
own set of allowed statuses.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.protocols.fuzzing.http1_requests import LIMITS, PARSERS, Request, requests

__all__ = ["KINDS", "Broken", "broken_requests"]


@dataclass
class Broken:
    """A request the server must refuse: its bytes and the statuses each parser may answer."""

    name: str
    data: bytes
    statuses: dict[str, set[int]]
    app_sees_it: bool = False  # the head was fine (the body is broken): the app gets it, then a disconnect
    request: Request | None = None  # that head, when app_sees_it

    def allowed(self, parser: str) -> set[int]:
        if parser not in self.statuses:
            raise AssertionError(f"--http {parser}: no documented answer to {self.name!r} in http1_broken.py")
        return self.statuses[parser]


def _every(*statuses: int) -> dict[str, set[int]]:
    return {parser: set(statuses) for parser in PARSERS}


def _with_header(request: Request, name: bytes, value: bytes) -> bytes:
    head = request.head()
    return head[:-2] + name + b": " + value + b"\r\n\r\n" + request.encoded_body()


def _replace_line(request: Request, line: bytes) -> bytes:
    return line + request.encode().split(b"\r\n", 1)[1]


def _without(request: Request, *names: bytes) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in request.headers if name.lower() not in names]


def _bodyless(request: Request, **changes: object) -> Request:
    """``request`` without a body or framing headers (and with ``changes``)."""
    headers = _without(request, b"content-length", b"transfer-encoding")
    return dataclasses.replace(request, headers=headers, framing="none", body=b"", **changes)  # type: ignore[arg-type]


_control = st.sampled_from([0x00, 0x01, 0x08, 0x0B, 0x0C, 0x0D, 0x1B, 0x1F, 0x7F]).map(lambda b: bytes([b]))
_BROKEN_CHUNKED_BODIES = [
    b"zz\r\nabc\r\n0\r\n\r\n",  # a size that is not hex
    b"3\r\nabcdef\r\n0\r\n\r\n",  # more data than the size
    b"3\r\nabc0\r\n\r\n",  # no CRLF after the data
    b"-1\r\n\r\n",
    b"3 x\r\nabc\r\n0\r\n\r\n",  # junk after the size
]
_junk_line = st.binary(min_size=1, max_size=30).map(
    lambda raw: b"{" + bytes(b for b in raw if b not in b"\r\n") + b"\r\n\r\n"
)


def broken_requests(draw: st.DrawFn, rnd: random.Random, kind: str | None = None) -> Broken:
    """A request broken in one way the server has a documented answer for (``kind``: which, see KINDS)."""
    base = requests(draw, rnd, near_limits=False)  # broken by one rule only
    if kind is None:
        kind = draw(st.sampled_from(KINDS))
    return _BREAKERS[kind](draw, base)


def _bad_version(draw: st.DrawFn, r: Request) -> Broken:
    version, statuses = draw(
        st.sampled_from(
            [
                (b"HTTP/2.0", _every(505)),
                (b"HTTP/3.0", {"h11": {505}, "httptools": {400}, "zttp": {505}}),
                (b"HTTP/1.2", _every(400)),
                (b"HTTP/0.9", _every(400)),
                (b"http/1.1", _every(400)),
                (b"HTTP/1.1x", _every(400)),
            ]
        )
    )
    return Broken("version", _replace_line(r, b"GET / " + version + b"\r\n"), statuses)


def _bad_target(draw: st.DrawFn, r: Request) -> Broken:
    bad = draw(st.sampled_from([b" ", b"\x00", b"\x7f", b"\x01", b"\xc3\xa9", b"\x80"]))
    return Broken("target", _replace_line(r, b"GET /a" + bad + b"b HTTP/1.1\r\n"), _every(400))


def _no_version(draw: st.DrawFn, r: Request) -> Broken:
    return Broken("no-version", b"GET /\r\nHost: example.org\r\n\r\n", _every(400))


def _host(draw: st.DrawFn, r: Request) -> Broken:
    headers = _without(r, b"host")
    if draw(st.booleans()):
        headers += [(b"Host", b"a.example"), (b"host", b"b.example")]
    broken = dataclasses.replace(r, version="1.1", headers=headers)
    return Broken("host", broken.encode(), _every(400))


def _both_framings(draw: st.DrawFn, r: Request) -> Broken:
    if r.framing == "chunked":
        data = _with_header(r, b"Content-Length", b"%d" % len(r.body))
    elif r.framing == "length":
        data = _with_header(r, b"Transfer-Encoding", b"chunked")
    else:
        data = _with_header(r, b"Transfer-Encoding", b"chunked")[:-2] + b"Content-Length: 0\r\n\r\n"
    return Broken("cl-and-te", data, _every(400))


def _bad_content_length(draw: st.DrawFn, r: Request) -> Broken:
    value = draw(st.sampled_from([b"abc", b"-1", b"+5", b"5 5", b"0x10", b"1.0", b"", b"5,6", b"9" * 30]))
    base = _bodyless(r)
    if draw(st.booleans()):
        return Broken("content-length", _with_header(base, b"Content-Length", value), _every(400))
    data = _with_header(base, b"Content-Length", b"3")[:-2] + b"Content-Length: 4\r\n\r\n"
    return Broken("content-lengths", data, _every(400))


def _transfer_coding(draw: st.DrawFn, r: Request) -> Broken:
    base = _bodyless(r)
    value, statuses = draw(
        st.sampled_from(
            [
                (b"gzip, chunked", _every(501)),
                (b"chunked, gzip", {"h11": {501}, "httptools": {400}, "zttp": {400}}),
                (b"gzip", {"h11": {501}, "httptools": {400}, "zttp": {400}}),
                (b"chunked, chunked", {"h11": {501}, "httptools": {400}, "zttp": {400}}),
            ]
        )
    )
    return Broken("transfer-coding", _with_header(base, b"Transfer-Encoding", value), statuses)


def _control_in_value(draw: st.DrawFn, r: Request) -> Broken:
    value = b"a" + draw(_control) + b"b"
    return Broken("control-character", _with_header(r, b"X-Bad", value), _every(400))


def _bad_header_line(draw: st.DrawFn, r: Request) -> Broken:
    line = draw(st.sampled_from([b"X-Bad : v", b"X-Bad", b"X(Bad): v", b"X@Bad: v", b": v", b"X Bad: v"]))
    head = r.head()
    return Broken("header-line", head[:-2] + line + b"\r\n\r\n" + r.encoded_body(), _every(400))


def _too_many_fields(draw: st.DrawFn, r: Request) -> Broken:
    count = LIMITS["limit_request_fields"] + draw(st.integers(1, 3))
    headers = [(b"Host", b"example.org")] + [(b"X-%d" % i, b"v") for i in range(count - 1)]
    broken = dataclasses.replace(_bodyless(r), headers=headers, version="1.1")
    return Broken("fields", broken.encode(), _every(431))


def _head_too_large(draw: st.DrawFn, r: Request) -> Broken:
    size = LIMITS["limit_request_head_size"] + draw(st.integers(1, 200))
    filler = b"v" * (size - 40)
    headers = [(b"Host", b"example.org"), (b"X-Big", filler)]
    broken = dataclasses.replace(_bodyless(r), headers=headers, version="1.1")
    return Broken("head-size", broken.encode(), _every(431))


def _line_too_long(draw: st.DrawFn, r: Request) -> Broken:
    over = draw(st.integers(1, 50))
    target = b"/" + b"a" * (LIMITS["limit_request_line"] - len(r.method) - 10 + over - 1)
    broken = dataclasses.replace(r, target=target)
    too_large = broken.head_size > LIMITS["limit_request_head_size"]
    statuses = _every(414, 431) if too_large else _every(414)
    return Broken("line-length", broken.encode(), statuses)


def _connect(draw: st.DrawFn, r: Request) -> Broken:
    data = b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"
    return Broken("connect", data, _every(400))


def _broken_chunks(draw: st.DrawFn, r: Request) -> Broken:
    headers = [
        *_without(r, b"content-length", b"transfer-encoding", b"expect"),
        (b"Transfer-Encoding", b"chunked"),
    ]
    base = dataclasses.replace(r, version="1.1", headers=headers, framing="chunked", body=b"", chunks=[])
    if not any(n.lower() == b"host" for n, _ in headers):
        base.headers.insert(0, (b"Host", b"example.org"))
    body = draw(st.sampled_from(_BROKEN_CHUNKED_BODIES))
    return Broken("chunked-framing", base.head() + body, _every(400), app_sees_it=True, request=base)


def _junk(draw: st.DrawFn, r: Request) -> Broken:
    """Bytes that are no request line: what follows a body longer than its Content-Length said."""
    return Broken("junk", draw(_junk_line), _every(400))


_BREAKERS: dict[str, Callable[[st.DrawFn, Request], Broken]] = {
    "version": _bad_version,
    "target": _bad_target,
    "no-version": _no_version,
    "host": _host,
    "cl-and-te": _both_framings,
    "content-length": _bad_content_length,
    "transfer-coding": _transfer_coding,
    "control-character": _control_in_value,
    "header-line": _bad_header_line,
    "fields": _too_many_fields,
    "head-size": _head_too_large,
    "line-length": _line_too_long,
    "connect": _connect,
    "chunked-framing": _broken_chunks,
    "junk": _junk,
}

#: The ways a request is broken, by name.
KINDS = sorted(_BREAKERS)
