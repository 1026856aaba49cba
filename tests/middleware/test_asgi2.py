"""ASGI2Middleware: a double-callable application served as ASGI3."""

from __future__ import annotations

from typing import Any

import httpx

from uvicorn.middleware.asgi2 import ASGI2Middleware


class Greeter:
    """An ASGI2 app: constructed with the scope, then called with receive and send."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        request = await receive()
        body = b"hello " + request["body"] + b" at " + self.scope["path"].encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": body})


async def test_asgi2_class_application() -> None:
    transport = httpx.ASGITransport(app=ASGI2Middleware(Greeter))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/there", content=b"you")
    assert response.status_code == 200
    assert response.text == "hello you at /there"


async def test_asgi2_function_returning_a_coroutine_function() -> None:
    def app(scope: dict[str, Any]) -> Any:
        async def instance(receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 418, "headers": []})
            await send({"type": "http.response.body", "body": scope["method"].encode()})

        return instance

    transport = httpx.ASGITransport(app=ASGI2Middleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.delete("/")
    assert (response.status_code, response.text) == (418, "DELETE")
