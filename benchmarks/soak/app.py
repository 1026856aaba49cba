"""The app the soak serves: a small HTTP answer and a WebSocket echo, plain ASGI.

HTTP requests get ``200 ok`` after their body is read; WebSocket connections are
accepted and every message is sent back. Nothing is kept between requests, so
any memory the server holds after the clients leave is the server's.

``GET /__soak/collect`` is the soak's probe: it runs a full garbage collection,
hands the C allocator's free memory back to the system (``malloc_trim``, glibc),
and answers with the number of objects the collector tracks and the number of
memory blocks Python has allocated (``sys.getallocatedblocks``: every object,
bytes and strings included). Those two tell exactly whether anything of the
connections is left; RSS measured after the probe is closer to what is in use
than to what the allocators keep for reuse.

``SOAK_APP_LEAKS=1`` makes the app keep a small object per request, a leak for
the soak's own test to find (tests/cli/test_soak.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from typing import Any

_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
_LEAKED: list[object] | None = [] if os.environ.get("SOAK_APP_LEAKS") == "1" else None
_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME) if _LIBC_NAME else None


def _collect() -> bytes:
    gc.collect()
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)
    return b"%d %d" % (len(gc.get_objects()), sys.getallocatedblocks())


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if scope["path"] == "/__soak/collect":
            body = _collect()
            headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if _LEAKED is not None:
            _LEAKED.append({"path": scope["path"]})
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": b"ok"})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")})
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
