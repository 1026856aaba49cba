"""An app that fails on purpose, at the point its path names (tests/cli/test_faults.py).

HTTP:

- ``/ok``               ``200 ok``;
- ``/upload``           reads the whole body, then answers with its length: a request kept in
                        flight by its client, as long as it holds back the end of its body;
- ``/raise-before``     raises before starting its response;
- ``/raise-after``      starts a streamed response, sends a part, raises;
- ``/raise-in-receive`` reads the first piece of its body, then raises.

WebSocket:

- ``/ws/echo``                 accepts and echoes every message;
- ``/ws/raise-before-accept``  raises before accepting;
- ``/ws/raise-after-accept``   accepts, echoes one message, raises;
- ``/ws/bad-send``             accepts, then sends a message without ``bytes`` or ``text``.

Lifespan: ``FAULTS_LIFESPAN=startup`` (or ``shutdown``) raises there;
``FAULTS_LIFESPAN=hang-startup`` (or ``hang-shutdown``) never answers there.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

_TEXT = [(b"content-type", b"text/plain")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "http":
        await http(scope["path"], receive, send)
    else:
        await websocket(scope["path"], receive, send)


async def lifespan(receive: Any, send: Any) -> None:
    fail_in = os.environ.get("FAULTS_LIFESPAN", "")
    while True:
        message = await receive()
        phase = message["type"].removeprefix("lifespan.")
        if phase == fail_in:
            raise RuntimeError(f"the app fails in lifespan {phase}")
        if "hang-" + phase == fail_in:
            await asyncio.Event().wait()  # a startup (or shutdown) that never ends
        await send({"type": message["type"] + ".complete"})
        if phase == "shutdown":
            return


async def http(path: str, receive: Any, send: Any) -> None:
    if path == "/raise-before":
        raise RuntimeError("the app fails before its response")
    if path == "/raise-in-receive":
        await receive()
        raise RuntimeError("the app fails while reading the body")
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": _TEXT})
    if path == "/raise-after":
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("the app fails after starting its response")
    answer = b"%d" % len(body) if path == "/upload" else b"ok"
    await send({"type": "http.response.body", "body": answer})


async def websocket(path: str, receive: Any, send: Any) -> None:
    await receive()  # websocket.connect
    if path == "/ws/raise-before-accept":
        raise RuntimeError("the app fails before accepting")
    await send({"type": "websocket.accept"})
    if path == "/ws/bad-send":
        await send({"type": "websocket.send"})  # neither bytes nor text: send() raises
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})
        if path == "/ws/raise-after-accept":
            raise RuntimeError("the app fails after accepting")
