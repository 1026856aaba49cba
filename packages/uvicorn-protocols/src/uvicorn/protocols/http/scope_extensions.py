"""``scope["extensions"]``: what each HTTP request may use, announced only where it works.

| extension | HTTP/1.1 | HTTP/1.0 | HTTP/2 |
|---|---|---|---|
| ``http.response.pathsend``, ``http.response.zerocopysend`` | yes | yes | yes |
| ``http.response.trailers`` | yes (sent if the request said ``TE: trailers``) | no (no chunks) | yes |
| ``http.response.early_hint`` | yes | no (a 1.0 client cannot take a 1xx) | yes |
| ``tls`` | over TLS | over TLS | over TLS |

The dicts are built once per connection. Each request gets its own shallow copy,
and its own copy of the ``tls`` dict and of its certificate list: an app or
middleware that adds to or changes its scope's extensions changes nothing for
the next request on the connection, which behind a proxy may come from someone
else. The values of the other entries are shared, empty dicts: treat them as
read-only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.tls_info import tls_extension

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "EARLY_HINT",
    "PATHSEND",
    "TRAILERS",
    "ZEROCOPYSEND",
    "ScopeExtensions",
    "http1_extensions",
    "http2_extensions",
]

PATHSEND = "http.response.pathsend"
ZEROCOPYSEND = "http.response.zerocopysend"
TRAILERS = "http.response.trailers"
EARLY_HINT = "http.response.early_hint"

_FILES: dict[str, dict[str, Any]] = {PATHSEND: {}, ZEROCOPYSEND: {}}
_ALL: dict[str, dict[str, Any]] = {**_FILES, TRAILERS: {}, EARLY_HINT: {}}


class ScopeExtensions:
    """The extensions of one connection's requests: ``for_request`` gives each request its own dict."""

    __slots__ = ("_current", "_other", "_tls", "_version")

    def __init__(
        self, version: str, current: dict[str, Any], other: dict[str, Any], tls: dict[str, Any] | None
    ):
        self._version = version  # the HTTP version nearly every request on the connection has
        self._current = current
        self._other = other
        self._tls = tls

    def for_request(self, http_version: str) -> dict[str, Any]:
        extensions = (self._current if http_version == self._version else self._other).copy()
        tls = self._tls
        if tls is not None:
            extensions["tls"] = {**tls, "client_cert_chain": list(tls["client_cert_chain"])}
        return extensions

    @property
    def tls(self) -> dict[str, Any] | None:
        """The connection's ``tls`` extension (None without TLS), for WebSocket scopes."""
        return self._tls


def http1_extensions(
    transport: asyncio.BaseTransport, certfile: str | os.PathLike[str] | None
) -> ScopeExtensions:
    """For an HTTP/1.x connection (``certfile``: the ``ssl_certfile`` setting, for ``tls``)."""
    return ScopeExtensions("1.1", _ALL, _FILES, tls_extension(transport, certfile))


def http2_extensions(
    transport: asyncio.BaseTransport | None, certfile: str | os.PathLike[str] | None
) -> ScopeExtensions:
    """For an HTTP/2 connection: every stream gets all of them."""
    return ScopeExtensions("2", _ALL, _ALL, None if transport is None else tls_extension(transport, certfile))
