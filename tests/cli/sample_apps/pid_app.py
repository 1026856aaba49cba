"""The app the CLI tests serve (copied into each test's project folder).

It announces its import on stderr (so a test can see which process imported
it) and answers:

- ``/``          the serving process id;
- ``/env/NAME``  the value of the environment variable NAME (404 if unset);
- ``/headers``   nothing, so a test can look at the response headers;
- ``/echo``      starts the response, then finishes it with the request body
                 once the body has arrived: a request kept in flight by its client;
- ``/block``     blocks the event loop for good (a hung worker);
- ``/forever``   starts the response and never finishes it;
- ``/grow/N``    keeps N more MiB of memory for good, then answers with the process id.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

print(f"app module imported in process {os.getpid()}", file=sys.stderr, flush=True)

Message = dict[str, Any]
_kept: list[bytes] = []  # what /grow allocated


async def app(scope: Message, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    if path.startswith("/env/"):
        value = os.environ.get(path[len("/env/") :])
        await respond(send, 404 if value is None else 200, (value or "").encode())
    elif path == "/echo":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"started;", "more_body": True})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.body", "body": b"echo:" + body})
    elif path == "/block":
        time.sleep(3600)  # the event loop stops here: health checks go unanswered
    elif path.startswith("/grow/"):
        # Filled with a non-zero byte so every page is really in memory (resident), not just reserved.
        _kept.append(b"\x01" * (int(path[len("/grow/") :]) * 1024 * 1024))
        await respond(send, 200, str(os.getpid()).encode())
    elif path == "/forever":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"started;", "more_body": True})
        await asyncio.Event().wait()
    else:
        await respond(send, 200, str(os.getpid()).encode())


async def respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
    )
    await send({"type": "http.response.body", "body": body})


def create_app() -> Any:
    """An app factory, for --factory."""
    return app
