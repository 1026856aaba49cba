"""Small ASGI apps for the protocol tests; each records what it saw for the test to check."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope


async def send_response(
    send: ASGISendCallable,
    status: int = 200,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A complete response in two messages (start, then the whole body)."""
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: ASGIReceiveCallable) -> tuple[bytes, list[dict[str, Any]]]:
    """The whole request body, and every message received on the way."""
    messages: list[dict[str, Any]] = []
    while True:
        message = dict(await receive())
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(message.get("body", b"") for message in messages)
    return body, messages


async def hello(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """200 "Hello, world" with a content-length."""
    await send_response(send, 200, b"Hello, world", [(b"content-type", b"text/plain")])


class Recorder:
    """Records each request's scope and body, then answers 200 with the request path."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []
        self.messages: list[list[dict[str, Any]]] = []

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert scope["type"] == "http"
        self.scopes.append(dict(scope))
        body, messages = await read_body(receive)
        self.bodies.append(body)
        self.messages.append(messages)
        await send_response(send, 200, scope["path"].encode(), [(b"content-type", b"text/plain")])

    @property
    def scope(self) -> dict[str, Any]:
        """The only scope recorded."""
        assert len(self.scopes) == 1, f"{len(self.scopes)} requests reached the app"
        return self.scopes[0]


class Gate:
    """An app that holds each request until the test opens the gate, then echoes the path.

    ``entered`` is set when a request reaches the app, so a test knows that the
    server is busy with it.
    """

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        self.paths: list[str] = []

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert scope["type"] == "http"
        self.paths.append(scope["path"])
        self.entered.set()
        await self.open.wait()
        await send_response(send, 200, scope["path"].encode())


class StreamingReader:
    """Hands each received message to the test as it arrives, then echoes the body's size."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        total = 0
        while True:
            message: dict[str, Any] = dict(await receive())
            await self.messages.put(message)
            total += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send_response(send, 200, b"%d" % total)
