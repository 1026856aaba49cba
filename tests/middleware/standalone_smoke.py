"""Smoke test for uvicorn-middleware installed on its own (no uvicorn-core, no h11, no httpx).

CI runs it in a fresh venv holding only the built uvicorn-middleware wheel:

    python -m venv /tmp/venv && /tmp/venv/bin/pip install --no-index dist/uvicorn_middleware-*.whl
    cd / && /tmp/venv/bin/python /path/to/tests/middleware/standalone_smoke.py

It serves real HTTP on 127.0.0.1 through a minimal asyncio HTTP/1.1 server
written below (the middleware must work in any ASGI server) and checks the
answers with ``http.client``. Exit code 0 on success; otherwise 1, with one
line per failed check on stderr. Standard library only.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn  # noqa: F401  (with uvicorn-core installed, its __init__ may load more of core)

# What the middleware itself imports, beyond the package `uvicorn` already is.
_BEFORE = set(sys.modules)
from uvicorn.middleware.asgi2 import ASGI2Middleware  # noqa: E402
from uvicorn.middleware.message_logger import TRACE_LOG_LEVEL, MessageLoggerMiddleware  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402
from uvicorn.middleware.wsgi import WSGIMiddleware  # noqa: E402

LOADED_BY_MIDDLEWARE = set(sys.modules) - _BEFORE

App = Callable[..., Any]
MIB = 1024 * 1024

# ---------------------------------------------------------------- a minimal ASGI server


async def serve_connection(app: App, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one request (Content-Length bodies in, chunked or sized bodies out), then close."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        headers = []
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
        path, _, query = target.partition("?")
        peer = writer.get_extra_info("peername")
        sockname = writer.get_extra_info("sockname")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": version.removeprefix("HTTP/"),
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": (peer[0], peer[1]),
            "server": (sockname[0], sockname[1]),
        }
        remaining = int(dict(headers).get(b"content-length", b"0"))
        body_done = False
        started = False
        chunked = False

        async def receive() -> dict[str, Any]:
            nonlocal remaining, body_done
            if body_done:
                await asyncio.Event().wait()  # after the body, ASGI waits for a disconnect
            block = await reader.readexactly(min(remaining, 65536)) if remaining else b""
            remaining -= len(block)
            body_done = remaining == 0
            return {"type": "http.request", "body": block, "more_body": not body_done}

        async def send(message: dict[str, Any]) -> None:
            nonlocal started, chunked
            if message["type"] == "http.response.start":
                started = True
                names = {name.lower() for name, _ in message["headers"]}
                chunked = b"content-length" not in names
                lines = [f"HTTP/1.1 {message['status']} X".encode()]
                lines += [name + b": " + value for name, value in message["headers"]]
                lines += [b"transfer-encoding: chunked"] if chunked else []
                writer.write(b"\r\n".join([*lines, b"connection: close", b"", b""]))
            else:
                body = message.get("body", b"")
                if chunked and body:
                    writer.write(b"%x\r\n%s\r\n" % (len(body), body))
                elif body:
                    writer.write(body)
                if chunked and not message.get("more_body", False):
                    writer.write(b"0\r\n\r\n")
            await writer.drain()

        try:
            await app(scope, receive, send)
        except Exception:
            if not started:
                writer.write(b"HTTP/1.1 500 X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    finally:
        writer.close()


class Server:
    """Run ``app`` on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            server = await asyncio.start_server(
                lambda reader, writer: serve_connection(self.app, reader, writer), "127.0.0.1", 0
            )
            self.port = server.sockets[0].getsockname()[1]
            self._stop = asyncio.Event()
            self._ready.set()
            async with server:
                await self._stop.wait()

        self._loop.run_until_complete(main())

    def __enter__(self) -> Server:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()


# ---------------------------------------------------------------- the applications


def environ_view(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    keys = ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "PATH_INFO", "QUERY_STRING")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [" ".join(str(environ.get(key)) for key in keys).encode()]


def pattern(size: int) -> Iterator[bytes]:
    block = hashlib.sha256(b"smoke").digest() * 2048
    for offset in range(0, size, len(block)):
        yield block[: min(len(block), size - offset)]


def hash_then_stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    digest = hashlib.sha256()
    while block := environ["wsgi.input"].read(50000):
        digest.update(block)
    start_response("200 OK", [("X-Upload-Sha256", digest.hexdigest())])
    yield from pattern(2 * MIB)


def str_body(environ: dict[str, Any], start_response: Any) -> list[Any]:
    start_response("200 OK", [])
    return ["text instead of bytes"]


class ASGI2App:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"asgi2"})


# ---------------------------------------------------------------- the checks


failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def main() -> int:
    foreign = sorted(
        name
        for name in LOADED_BY_MIDDLEWARE
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("uvicorn.middleware")
    )
    check(not foreign, f"the middleware imports only the standard library (it also loaded {foreign})")

    proxied = ProxyHeadersMiddleware(
        WSGIMiddleware(environ_view), trusted_hosts="127.0.0.1", forwarded=True, x_forwarded_host=True
    )
    with Server(proxied) as server:
        headers = {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "shop.example",
        }
        status, _, body = server.request("GET", "/a/b?x=1", headers=headers)
        check((status, body) == (200, b"203.0.113.9 https shop.example /a/b x=1"), f"X-Forwarded-*: {body!r}")
        forwarded = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https;host=example.org'}
        status, _, body = server.request("GET", "/", headers=forwarded)
        check(body == b"2001:db8::1 https example.org / ", f"Forwarded: {body!r}")
        status, _, body = server.request("GET", "/", headers={"X-Forwarded-For": "not-an-address"})
        check(body.startswith(b"127.0.0.1 http "), f"malformed X-Forwarded-For is ignored: {body!r}")

    with Server(ProxyHeadersMiddleware(WSGIMiddleware(environ_view), trusted_hosts="10.0.0.1")) as server:
        status, _, body = server.request("GET", "/", headers={"X-Forwarded-For": "203.0.113.9"})
        check(body.startswith(b"127.0.0.1 http "), f"an untrusted peer's headers are ignored: {body!r}")

    with Server(ProxyHeadersMiddleware(WSGIMiddleware(hash_then_stream))) as server:
        upload = b"".join(pattern(3 * MIB))
        status, headers, body = server.request("POST", "/", body=upload)
        check(status == 200, f"WSGI upload/download status {status}")
        check(
            headers.get("x-upload-sha256") == hashlib.sha256(upload).hexdigest(), "WSGI read 3 MiB uploaded"
        )
        check(headers.get("transfer-encoding") == "chunked", "WSGI response streamed (chunked)")
        check(body == b"".join(pattern(2 * MIB)), f"WSGI streamed 2 MiB down ({len(body)} bytes)")

    with Server(WSGIMiddleware(str_body)) as server:
        status, _, body = server.request("GET", "/")
        check((status, body) == (500, b"Internal Server Error"), f"a broken WSGI app gets a 500: {status}")

    records: list[str] = []
    handler = logging.Handler(TRACE_LOG_LEVEL)
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.asgi")
    logger.addHandler(handler)
    logger.setLevel(TRACE_LOG_LEVEL)
    with Server(MessageLoggerMiddleware(ASGI2Middleware(ASGI2App))) as server:
        status, _, body = server.request("GET", "/")
    check((status, body) == (200, b"asgi2"), f"ASGI2 app: {status} {body!r}")
    traced = (
        len(records) == 4 and "ASGI [1] Started scope=" in records[0] and records[3].endswith("[1] Completed")
    )
    check(traced, f"message logger traced start, 2 sends, completion: {records}")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        for failure in failures:
            print("  " + failure, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
