"""The ASGI apps both servers run during a benchmark.

Plain ASGI with no framework and no import from uvicorn, so the same module
runs unchanged under our server and under upstream's. Each app behaves the
way a small real app would (fresh message dicts per request, bodies read to
the end) so the numbers describe the server, not a shortcut in the app.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

HELLO_BODY = b"Hello, world!\n"
DOWNLOAD_SIZE = 10 * 1024 * 1024
# Starlette's FileResponse streams in 64 KiB chunks; so does this app, which
# makes the download row exercise the server's flow control as real apps do.
DOWNLOAD_CHUNK = b"x" * (64 * 1024)

# The files of the pathsend rows, by request path; the runner writes them (write_files) before use.
FILES_DIR = Path(__file__).resolve().parent / ".work" / "files"
FILE_SIZES = {"/50k": 50 * 1024, "/10m": 10 * 1024 * 1024}
PATHSEND = "http.response.pathsend"
FILE_CHUNK_SIZE = 64 * 1024

_TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_BINARY_HEADERS = [(b"content-type", b"application/octet-stream")]


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown so both servers start without lifespan warnings."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every request with a 14-byte greeting."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _respond(send, HELLO_BODY, _TEXT_HEADERS)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the request body, whatever its size."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _respond(send, await _read_body(receive), _BINARY_HEADERS)


async def upload(scope: Scope, receive: Receive, send: Send) -> None:
    """Consume the request body chunk by chunk and answer with its length in bytes."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await _respond(send, b"%d" % received, _TEXT_HEADERS)


async def download(scope: Scope, receive: Receive, send: Send) -> None:
    """Stream a 10 MiB body in 64 KiB chunks with a known content length."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_BINARY_HEADERS, (b"content-length", b"%d" % DOWNLOAD_SIZE)],
        }
    )
    remaining = DOWNLOAD_SIZE
    while remaining > 0:
        chunk = DOWNLOAD_CHUNK[:remaining]
        remaining -= len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})


async def ws_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept a WebSocket and send every message back as it came (text or bytes)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http":
        await _respond(send, HELLO_BODY, _TEXT_HEADERS)
        return
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("bytes") is not None:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
            else:
                await send({"type": "websocket.send", "text": message["text"]})
        else:  # websocket.disconnect
            return


def file_path(request_path: str) -> Path:
    return FILES_DIR / f"file{request_path.replace('/', '-')}.bin"


def write_files() -> None:
    """Create the files the file apps serve, once (their bytes do not matter, their sizes do)."""
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    for request_path, size in FILE_SIZES.items():
        path = file_path(request_path)
        if not path.exists() or path.stat().st_size != size:
            path.write_bytes(bytes(range(256)) * (size // 256))


async def _file_start(send: Send, path: Path) -> None:
    size = path.stat().st_size
    headers = [*_BINARY_HEADERS, (b"content-length", b"%d" % size)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})


async def _extensions(scope: Scope, send: Send) -> None:
    """``GET /extensions``: the names in ``scope["extensions"]`` as JSON; the runner looks for pathsend."""
    names = sorted(scope.get("extensions") or {})
    await _respond(send, json.dumps(names).encode(), _TEXT_HEADERS)


async def file_pathsend(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve a file the way Starlette's FileResponse does where the server offers pathsend."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/extensions":
        await _extensions(scope, send)
        return
    path = file_path(scope["path"])
    await _file_start(send, path)
    await send({"type": PATHSEND, "path": str(path)})


async def file_read(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve a file by reading it in 64 KiB chunks, as FileResponse does without pathsend."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/extensions":
        await _extensions(scope, send)
        return
    path = file_path(scope["path"])
    await _file_start(send, path)
    with path.open("rb") as file:
        chunk = file.read(FILE_CHUNK_SIZE)
        while chunk:
            following = file.read(FILE_CHUNK_SIZE)
            await send({"type": "http.response.body", "body": chunk, "more_body": bool(following)})
            chunk = following


APPS: dict[str, App] = {
    "hello": hello,
    "echo": echo,
    "upload": upload,
    "download": download,
    "ws_echo": ws_echo,
    "file_pathsend": file_pathsend,
    "file_read": file_read,
}
