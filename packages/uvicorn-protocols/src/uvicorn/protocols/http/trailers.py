"""Response trailers (the ``http.response.trailers`` extension), for HTTP/1.1 and HTTP/2 alike.

Trailer fields pass the checks of response headers (``header_kind``); names go
lowercase; fields that frame or route a message cannot be trailers (RFC 9110
6.5.1) and are dropped, as are the connection-specific ones HTTP/2 forbids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.response_head import CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING, header_kind

__all__ = ["client_accepts_trailers", "http11_trailer_section", "trailer_fields"]

Headers = list[tuple[bytes, bytes]]

_NEVER_TRAILERS = frozenset({b"keep-alive", b"proxy-connection", b"upgrade", b"te", b"host"})


def trailer_fields(headers: Any) -> Headers:
    """Trailer fields to send; pseudo-header names are an app error."""
    fields: Headers = []
    for name, value in headers:
        if isinstance(name, bytes) and name[:1] == b":":
            raise RuntimeError("Pseudo headers are not allowed in HTTP response trailers")
        kind = header_kind(name, value)
        if kind in (CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION):
            continue
        lower = name.lower()
        if lower not in _NEVER_TRAILERS:
            fields.append((lower, value))
    return fields


def http11_trailer_section(fields: Headers) -> bytes:
    """The end of a chunked body: the last chunk, these fields, the blank line (RFC 9112 7.1.2)."""
    return b"0\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in fields) + b"\r\n"


def client_accepts_trailers(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """True when the request said ``TE: trailers`` (RFC 9110 10.1.4): only then are trailers sent."""
    for name, value in headers:
        if name == b"te" and any(
            element.partition(b";")[0].strip(b" \t") == b"trailers" for element in value.lower().split(b",")
        ):
            return True
    return False
