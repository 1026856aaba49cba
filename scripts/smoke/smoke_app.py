"""The ASGI application the smoke scenarios serve.

- HTTP: a JSON report of what serves it (where uvicorn was imported from, the
  event loop, the protocol modules loaded, what lifespan startup stored).
- WebSocket: echoes every message back until the client closes.
- Lifespan: stores a marker in the state at startup, so the report shows that
  startup ran and its state reached the request.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    elif scope["type"] == "http":
        await report(scope, receive, send)
    elif scope["type"] == "websocket":
        await echo(receive, send)


async def lifespan(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope.get("state", {})["started"] = "lifespan startup ran"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def report(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body", False):
        pass
    import uvicorn

    body = json.dumps(
        {
            "uvicorn": os.path.realpath(uvicorn.__file__ or ""),
            "loop": type(asyncio.get_running_loop()).__module__,
            "protocols": sorted(name for name in sys.modules if name.startswith("uvicorn.protocols.")),
            "state": scope.get("state", {}).get("started", ""),
            "path": scope["path"],
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def echo(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
        else:
            return
