"""RFC 9113 8.2-8.3: what makes a request's field block malformed, for engines that leave it to us.

zttp checks all of this itself. h2 would too, but answers every finding with a
connection error; the h2 engine turns its check off and uses this one, so a
malformed request costs only its own stream (RST_STREAM PROTOCOL_ERROR).
"""

from __future__ import annotations

import re

__all__ = ["malformed", "malformed_trailers"]

_REQUEST_PSEUDO = frozenset({b":method", b":scheme", b":path", b":authority"})
_CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
# Names: lowercase tokens (RFC 9113 8.2.1). Values: no control characters (as on HTTP/1.1),
# and no leading or trailing whitespace.
_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|^[ \t]|[ \t]$")


def malformed(fields: list[tuple[bytes, bytes]], extended_connect: bool = False) -> str | None:
    """Why a request's HEADERS block is malformed, or None.

    ``extended_connect``: the server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL, so a
    CONNECT may carry ``:protocol`` (RFC 8441 4) with ``:scheme`` and ``:path``.
    """
    seen: set[bytes] = set()
    regular = False
    for name, value in fields:
        if name[:1] == b":":
            if regular:
                return f"pseudo-header {name!r} after a regular field"
            if name not in _REQUEST_PSEUDO and not (extended_connect and name == b":protocol"):
                return f"pseudo-header {name!r} is not a request pseudo-header"
            if name in seen:
                return f"pseudo-header {name!r} given twice"
            seen.add(name)
            continue
        regular = True
        problem = _field_problem(name, value)
        if problem is not None:
            return problem
    method = dict(fields).get(b":method")
    if method is None:
        return "no :method"
    if b":protocol" in seen:
        if method != b"CONNECT" or not {b":scheme", b":path", b":authority"} <= seen:
            return ":protocol needs CONNECT with :scheme, :path and :authority"
    elif method == b"CONNECT":
        if b":authority" not in seen or b":path" in seen or b":scheme" in seen:
            return "CONNECT needs :authority and neither :scheme nor :path"
    elif b":scheme" not in seen or not dict(fields).get(b":path"):
        return "no :scheme or empty :path"
    return None


def malformed_trailers(fields: list[tuple[bytes, bytes]]) -> str | None:
    """Why a request's trailer block is malformed (RFC 9113 8.1: no pseudo-headers in it), or None."""
    for name, value in fields:
        if name[:1] == b":":
            return f"pseudo-header {name!r} in trailers"
        problem = _field_problem(name, value)
        if problem is not None:
            return problem
    return None


def _field_problem(name: bytes, value: bytes) -> str | None:
    if _NAME.fullmatch(name) is None:
        return f"invalid field name {name!r}"
    if name in _CONNECTION_SPECIFIC:
        return f"connection-specific field {name!r}"
    if name == b"te" and value.strip().lower() != b"trailers":
        return "te field other than 'trailers'"
    if value and _BAD_VALUE.search(value) is not None:
        return f"invalid value for field {name!r}"
    return None
