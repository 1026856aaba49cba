"""The ASGI scopes of one HTTP/1.1 connection's requests.

What every scope of a connection shares (type, ASGI version, scheme, addresses,
``root_path``) is made once, when the connection is; each request adds what its
head says and a copy of the lifespan state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.request_head import decode_path

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import HTTPScope

__all__ = ["ScopeMaker"]


class ScopeMaker:
    """Makes the scope of each request on one connection."""

    __slots__ = ("_app_state", "_raw_root_path", "_root_path", "_template")

    def __init__(
        self,
        asgi_version: str,
        root_path: str,
        app_state: dict[str, Any],
        scheme: str,
        server: tuple[str, int | None] | None,
        client: tuple[str, int] | None,
    ) -> None:
        self._root_path = root_path
        self._raw_root_path = root_path.encode("ascii", "surrogateescape")
        self._app_state = app_state
        self._template: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": asgi_version, "spec_version": "2.3"},
            "scheme": scheme,
            "server": server,
            "client": client,
            "root_path": root_path,
        }

    def scope(
        self,
        method: str,
        http_version: str,
        raw_path: bytes,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> HTTPScope:
        scope: HTTPScope = self._template.copy()  # type: ignore[assignment]
        scope["http_version"] = http_version
        scope["method"] = method
        scope["path"] = self._root_path + decode_path(raw_path)
        scope["raw_path"] = self._raw_root_path + raw_path
        scope["query_string"] = query_string
        scope["headers"] = headers
        scope["state"] = self._app_state.copy()
        return scope
