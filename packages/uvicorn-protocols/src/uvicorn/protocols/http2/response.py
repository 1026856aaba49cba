"""Response fields as HTTP/2 carries them (RFC 9113 8.2); trailer fields are ``http/trailers.py``'s.

The app's headers pass the same checks as on HTTP/1.1 (``header_kind``). Names
go lowercase, and the connection-specific fields an HTTP/1.1 app may send
(``connection``, ``keep-alive``, ``transfer-encoding``...) are dropped, since
HTTP/2 forbids them.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.response_head import (
    CONNECTION,
    CONTENT_LENGTH,
    DEFAULT_OVERRIDE,
    TRANSFER_ENCODING,
    HeaderError,
    header_kind,
)
from uvicorn.protocols.http.trailers import trailer_fields

__all__ = ["response_fields", "trailer_fields"]

Headers = list[tuple[bytes, bytes]]

_CONNECTION_SPECIFIC = frozenset({b"keep-alive", b"proxy-connection", b"upgrade"})
# Lowercase form of each name seen, or None for a name HTTP/2 must not carry.
_h2_names: dict[bytes, bytes | None] = {}
_NAME_CACHE_LIMIT = 4096


def _h2_name(name: bytes, kind: int) -> bytes | None:
    lower = _h2_names.get(name, b"")
    if lower != b"":
        return lower
    lower = name.lower()
    result = None if kind in (TRANSFER_ENCODING, CONNECTION) or lower in _CONNECTION_SPECIFIC else lower
    if len(_h2_names) < _NAME_CACHE_LIMIT:
        _h2_names[name] = result
    return result


def response_fields(headers: Any, defaults: Headers) -> tuple[Headers, int | None]:
    """``(fields, content_length)``: the default headers the app did not override, then the app's."""
    fields: Headers = []
    content_length: int | None = None
    overridden: set[bytes] | None = None
    for name, value in headers:
        kind = header_kind(name, value)
        lower = _h2_name(name, kind)
        if lower is None:
            continue
        if kind == CONTENT_LENGTH:
            try:
                length = int(value)
            except ValueError:
                raise HeaderError(f"Invalid content-length response header: {value!r}.") from None
            if length < 0 or (content_length is not None and length != content_length):
                raise HeaderError(f"Invalid content-length response header: {value!r}.")
            if content_length is not None:
                continue
            content_length = length
        elif kind == DEFAULT_OVERRIDE:
            overridden = overridden or set()
            overridden.add(lower)
        elif lower == b"te" and value.strip().lower() != b"trailers":
            continue
        fields.append((lower, value))
    if overridden:
        return [(n, v) for n, v in defaults if n not in overridden] + fields, content_length
    return defaults + fields if defaults else fields, content_length
