"""Small ASGI apps shared by the core tests."""

from __future__ import annotations

import json
from typing import Any

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope


async def hello(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Answer HTTP requests with 200 "hello"; no lifespan support (raises on it, like many apps)."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def json_body(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True).encode()


async def echo_scope(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Answer with the JSON-serialisable parts of the scope (path, root_path, state, ...)."""
    if scope["type"] == "lifespan":
        return  # tolerated by lifespan="auto"
    assert scope["type"] == "http"
    shown = {
        "asgi": scope["asgi"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "root_path": scope["root_path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "state": scope.get("state"),
        "scheme": scope["scheme"],
    }
    body = json_body(shown)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})
