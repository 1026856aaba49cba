"""Run ProxyHeadersMiddleware on one request and report the scope the application saw."""

from __future__ import annotations

from typing import Any

from tests.middleware.harness import RequestFeed, ResponseRecorder, http_scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


class SeenScope:
    """An ASGI app that remembers its scope and answers 204."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})


async def seen_by_app(
    headers: list[tuple[str, str]],
    *,
    peer: str | None = "127.0.0.1",
    trusted: str | list[str] = "127.0.0.1",
    scope_type: str = "http",
    **options: Any,
) -> dict[str, Any]:
    """The scope an app behind the middleware sees for a request from ``peer`` with ``headers``."""
    app = SeenScope()
    middleware = ProxyHeadersMiddleware(app, trusted, **options)
    scope = http_scope(
        headers=[(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        client=(peer, 40000) if peer is not None else None,
        type=scope_type,
        scheme="ws" if scope_type == "websocket" else "http",
    )
    await middleware(scope, RequestFeed(), ResponseRecorder())
    assert app.scope is not None
    return app.scope


def host_headers(scope: dict[str, Any]) -> list[bytes]:
    return [value for name, value in scope["headers"] if name == b"host"]
