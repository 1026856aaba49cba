"""Checking a parsed request head (RFC 9112) and turning its target into ASGI path fields.

Both parsers deliver the same thing: method, target, version and a header list
with lowercased names. :func:`inspect_headers` makes one pass over the headers and
collects everything the server itself needs from them.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

from uvicorn.protocols.http.rules import TOKEN, comma_list

__all__ = [
    "INVALID_REQUEST",
    "MAX_BODY_SIZE",
    "HeadProblem",
    "RequestFacts",
    "check_content_length",
    "check_host",
    "check_limits",
    "check_version",
    "decode_path",
    "inspect_headers",
    "refusal_detail",
    "request_line_problem",
    "split_target",
]

#: The body of a 400 answer, word for word as upstream.
INVALID_REQUEST = "Invalid HTTP request received."

_HOST, _CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION, _EXPECT, _UPGRADE = range(6)
_SERVER_HEADERS = {
    b"host": _HOST,
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    b"expect": _EXPECT,
    b"upgrade": _UPGRADE,
}


# RFC 9110 7.2: Host = uri-host [ ":" port ], with RFC 3986 3.2.2's uri-host: an IP-literal
# ("[" IPv6address, with an RFC 6874 zone, or IPvFuture "]"), or a reg-name (of which an
# IPv4address is one), possibly empty; port = *DIGIT. No userinfo, path, space or control.
_REG_NAME_CHARACTER = rb"A-Za-z0-9\-._~!$&'()*+,;="
_HOST_SYNTAX = re.compile(
    rb"(?:\[(?:(?P<ipv6>[0-9A-Fa-f:.]+)(?:%25(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+)?"
    rb"|[vV][0-9A-Fa-f]+\.[" + _REG_NAME_CHARACTER + rb":]+)\]"
    rb"|(?:[" + _REG_NAME_CHARACTER + rb"]|%[0-9A-Fa-f]{2})*)"
    rb"(?::[0-9]*)?"
)
# RFC 9112 3: request-line = method SP request-target SP HTTP-version (a target of visible
# characters, as h11 reads it; a line may end in a bare LF).
_REQUEST_LINE = re.compile(TOKEN.pattern + rb" [\x21-\x7e]+ HTTP/[0-9]\.[0-9]\r?")
# Host values already found valid: a server sees the same few names on every request.
_valid_hosts: set[bytes] = set()
_HOST_CACHE_LIMIT = 1024


class HeadProblem(Exception):
    """A request head we refuse: ``status``, a one-line ``message`` for the client, and for the log
    a ``reason`` when the message does not say enough (the offending value, say)."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


def refusal_detail(status: int, message: str, reason: str | None) -> str:
    """What the log says after upstream's words ``Invalid HTTP request received.``: our answer and why.

    Upstream logs only those words; people grep for them, so they come first and
    unchanged, and the rest says what was answered and why, without repeating them.
    """
    if not reason:
        reason = message.removeprefix(INVALID_REQUEST[:-1]).lstrip(".: ")
    return f"Answered {status}: {reason}" if reason else f"Answered {status}."


class RequestFacts:
    """What the server needs to know from a request's headers."""

    __slots__ = ("close", "content_length", "expect_100", "upgrade", "upgrade_token")

    def __init__(self) -> None:
        self.close = False
        self.content_length: bytes | None = None  # as sent (the parsers checked its syntax)
        self.expect_100 = False
        self.upgrade: bytes | None = None  # the Upgrade header's value, lowercased
        self.upgrade_token = False  # Connection lists "upgrade"


def check_version(http_version: str) -> None:
    """Only HTTP/1.0 and 1.1 are served; 2 and later get 505, anything else 400."""
    if http_version not in ("1.1", "1.0"):
        if http_version[:1].isdigit() and int(http_version[:1]) >= 2:
            raise HeadProblem(505, "HTTP Version Not Supported: this server speaks HTTP/1.1.")
        raise HeadProblem(400, INVALID_REQUEST)


def check_limits(
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    line_limit: int,
    fields_limit: int,
    size_limit: int,
) -> None:
    """The request line (414), field count and head size (431) limits of a complete head.

    The connection also bounds heads still arriving; a head that came in one read is
    only measured here (as written, give or take optional whitespace).
    """
    if len(method) + len(target) + 10 > line_limit:
        raise HeadProblem(414, "Request-URI Too Long.")
    if len(headers) > fields_limit:
        raise HeadProblem(431, "Request header fields too large.")
    head_size = len(method) + len(target) + 14
    for name, value in headers:
        head_size += len(name) + len(value) + 4
    if head_size > size_limit:
        raise HeadProblem(431, "Request header fields too large.")


def request_line_problem(head: bytes) -> str | None:
    """Why the first line of ``head`` (a head still arriving) cannot start a request, or None.

    Lets a line that can never become a valid head be refused as soon as it ends
    rather than when the head timeout strikes: an HTTP/0.9 request (``GET /``) has
    no more lines to come.
    """
    line = head[: head.find(b"\n")]
    if _REQUEST_LINE.fullmatch(line) is not None:
        return None
    if line.count(b" ") == 1 and b"HTTP/" not in line:
        return "HTTP/0.9 request line (no HTTP version)"
    return f"malformed request line {line!r}"


#: The largest body or chunk size either parser takes: llhttp's 64 bits (h11 alone would read
#: 20 digits, and wait for a body no client could send). Larger gets 400 at once.
MAX_BODY_SIZE = (1 << 64) - 1


def check_content_length(value: bytes) -> None:
    """A Content-Length of 20 digits or more (the parsers checked they are digits): not over 64 bits."""
    if not value.isdigit() or int(value) > MAX_BODY_SIZE:
        raise HeadProblem(
            400,
            "Invalid HTTP request received: Content-Length too large.",
            f"Content-Length {value!r} overflows",
        )


def check_host(value: bytes) -> None:
    """RFC 9112 3.2: a Host header whose value is not ``uri-host [":" port]`` gets 400."""
    match = _HOST_SYNTAX.fullmatch(value)
    if match is not None and match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"].decode("ascii"))
        except ValueError:
            match = None
    if match is None:
        raise HeadProblem(
            400, "Invalid HTTP request received: invalid Host header.", f"invalid Host header {value!r}"
        )
    if len(_valid_hosts) < _HOST_CACHE_LIMIT:
        _valid_hosts.add(value)


def inspect_headers(headers: list[tuple[bytes, bytes]], http11: bool) -> RequestFacts:
    """One pass over the request headers: framing sanity, Host rules, connection options."""
    facts = RequestFacts()
    hosts = 0
    content_length = False
    transfer_encoding: bytes | None = None
    for name, value in headers:
        kind = _SERVER_HEADERS.get(name)
        if kind is None:
            continue
        if kind == _HOST:
            hosts += 1
            if value not in _valid_hosts:
                check_host(value)
        elif kind == _CONTENT_LENGTH:
            content_length = True
            facts.content_length = value
            if len(value) > 19:
                check_content_length(value)
        elif kind == _TRANSFER_ENCODING:
            transfer_encoding = value if transfer_encoding is None else transfer_encoding + b"," + value
        elif kind == _CONNECTION:
            tokens = comma_list(value)
            if b"close" in tokens:
                facts.close = True
            if b"upgrade" in tokens:
                facts.upgrade_token = True
        elif kind == _EXPECT:
            # RFC 9110 10.1.1: an HTTP/1.0 client cannot read an interim response; ignore it there.
            facts.expect_100 = http11 and value.lower() == b"100-continue"
        else:
            facts.upgrade = value.lower().strip()

    if http11 and hosts == 0:
        raise HeadProblem(400, "Invalid HTTP request received: missing Host header.")
    if hosts > 1:
        raise HeadProblem(400, "Invalid HTTP request received: more than one Host header.")
    if transfer_encoding is not None:
        # RFC 9112 6.1: both framings at once is how request smuggling starts.
        if content_length:
            raise HeadProblem(
                400, "Invalid HTTP request received: both Content-Length and Transfer-Encoding."
            )
        codings = comma_list(transfer_encoding)
        if codings != [b"chunked"]:
            # RFC 9112 6.3: unless chunked comes last (and once), the body's end is unknowable.
            if codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
                raise HeadProblem(400, "Invalid HTTP request received: chunked must be the final coding.")
            raise HeadProblem(501, "Unsupported Transfer-Encoding: only chunked is implemented.")
    if not http11:
        facts.close = True  # no keep-alive for HTTP/1.0 clients, as upstream
    return facts


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """``(raw_path, query_string)`` of an origin-form or absolute-form request target."""
    if target[:1] != b"/":
        if target == b"*":
            return b"*", b""
        # absolute-form (RFC 9112 3.2.2): scheme "://" authority path-abempty [ "?" query ]
        scheme_end = target.find(b"://")
        if scheme_end <= 0 or not target[:scheme_end].isalpha():
            raise HeadProblem(400, "Invalid HTTP request received: unsupported request target.")
        path_start = target.find(b"/", scheme_end + 3)
        query_start = target.find(b"?", scheme_end + 3)
        if path_start == -1 or (query_start != -1 and query_start < path_start):
            target = b"/" + (target[query_start:] if query_start != -1 else b"")
        else:
            target = target[path_start:]
    raw_path, _, query = target.partition(b"?")
    hash_at = query.find(b"#")
    if hash_at != -1:
        query = query[:hash_at]
    return raw_path, query


def decode_path(raw_path: bytes) -> str:
    """Percent-decode a path and read it as UTF-8 (ASGI ``path``)."""
    if b"%" not in raw_path and raw_path.isascii():
        return raw_path.decode("ascii")
    return urllib.parse.unquote_to_bytes(raw_path).decode("utf-8", "replace")
