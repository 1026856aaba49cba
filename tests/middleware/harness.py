"""Drive ASGI applications directly: scopes, a request body feed and a response recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping
from typing import Any


def http_scope(
    path: str = "/",
    *,
    method: str = "GET",
    headers: Iterable[tuple[bytes, bytes]] = (),
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    **fields: Any,
) -> dict[str, Any]:
    """An ASGI ``http`` scope as a server builds it; ``fields`` override or add keys."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": client,
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    scope.update(fields)
    return scope


class RequestFeed:
    """An ASGI ``receive`` that hands out body chunks, then waits for ``disconnect()``.

    With ``cut_after=n`` the client "goes away" after ``n`` chunks, before the
    body is complete. ``calls`` counts how often the application asked.
    """

    def __init__(self, chunks: Iterable[bytes] = (), *, cut_after: int | None = None) -> None:
        self._chunks = list(chunks) or [b""]
        self._cut_after = cut_after
        self._delivered = 0
        self._disconnected = asyncio.Event()
        self.calls = 0

    def disconnect(self) -> None:
        self._disconnected.set()

    async def __call__(self) -> MutableMapping[str, Any]:
        self.calls += 1
        if self._delivered == self._cut_after:
            return {"type": "http.disconnect"}
        if self._delivered < len(self._chunks):
            chunk = self._chunks[self._delivered]
            self._delivered += 1
            return {"type": "http.request", "body": chunk, "more_body": self._delivered < len(self._chunks)}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}


class ResponseRecorder:
    """An ASGI ``send`` that records what the application sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(dict(message))

    @property
    def status(self) -> int | None:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return [(name, value) for name, value in starts[0]["headers"]] if starts else []

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    @property
    def complete(self) -> bool:
        bodies = [m for m in self.messages if m["type"] == "http.response.body"]
        return bool(bodies) and not bodies[-1].get("more_body", False)
