"""Download load client: N keep-alive connections fetching a large body again and again.

``python -m benchmarks.download_load --port P --path /download --connections 64 --duration 8``
prints one JSON object: body bytes received within the window, responses
completed, seconds measured, errors seen, and ``all_body_bytes``: every body
byte the server sent, the responses finished after the window included (what
its CPU time is divided by).

wrk reads in 8 KiB steps, which makes it the bottleneck for 10 MiB bodies
(it saturates its core while the server idles). This client lets the kernel
fill a 1 MiB buffer per read and only counts, so the server is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

_READ_SIZE = 1 << 20


@dataclass
class Tally:
    """Shared by all connections: whether the window is open and what it saw."""

    running: bool = False
    body_bytes: int = 0
    all_body_bytes: int = 0
    responses: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(text)


class DownloadClient(asyncio.BufferedProtocol):
    """One connection: send the request, count the body, repeat while the window is open."""

    def __init__(self, request: bytes, tally: Tally) -> None:
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._request = request
        self._tally = tally
        self._buffer = memoryview(bytearray(_READ_SIZE))
        self._head = bytearray()
        self._remaining = -1  # body bytes still to come; -1 while reading a head
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport but offer its methods.
        self._transport = cast(asyncio.Transport, transport)

    def start(self) -> None:
        assert self._transport is not None
        self._transport.write(self._request)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        body = nbytes
        if self._remaining < 0:
            self._head += self._buffer[:nbytes]
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            body = len(self._head) - end - 4
            if not self._read_head(bytes(self._head[:end])):
                return
            self._head.clear()
        self._remaining -= body
        self._tally.all_body_bytes += body
        if self._tally.running:
            self._tally.body_bytes += body
        if self._remaining > 0:
            return
        if self._remaining < 0:
            self._fail("more bytes than Content-Length announced")
            return
        self._remaining = -1
        if self._tally.running:
            self._tally.responses += 1
            self.start()
        else:
            self.close()

    def _read_head(self, head: bytes) -> bool:
        status_line, *lines = head.decode("latin-1").split("\r\n")
        if " 200 " not in status_line + " ":
            self._fail(f"answer {status_line!r}")
            return False
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                self._remaining = int(value)
                return True
        self._fail("response without Content-Length")
        return False

    def _fail(self, text: str) -> None:
        self._tally.error(text)
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent) and mark this client finished."""
        if self._transport is not None:
            self._transport.close()
        if not self.finished.done():
            self.finished.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            if self._tally.running:
                self._tally.error(f"connection lost while measuring: {exc or 'closed by server'}")
            self.finished.set_result(None)


async def measure(port: int, path: str, connections: int, duration: float) -> dict[str, Any]:
    """Fetch ``path`` over ``connections`` keep-alive connections for ``duration`` seconds."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path.encode(), port)
    clients: list[DownloadClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(lambda: DownloadClient(request, tally), "127.0.0.1", port)
        clients.append(client)
    tally.running = True
    started = loop.time()
    for client in clients:
        client.start()
    await asyncio.sleep(duration)  # the measuring window itself, not a synchronisation
    tally.running = False
    elapsed = loop.time() - started
    report: dict[str, Any] = {
        "body_bytes": tally.body_bytes,
        "responses": tally.responses,
        "seconds": elapsed,
    }
    # Let responses in flight finish so the server sees clients leave politely.
    _, pending = await asyncio.wait([client.finished for client in clients], timeout=30)
    for client in clients:
        client.close()
    report["all_body_bytes"] = tally.all_body_bytes
    report["errors"] = tally.errors + (
        [f"{len(pending)} responses unfinished 30s after the window"] if pending else []
    )
    return report


def _run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="large-body download load client")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/download")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of measurement")
    args = parser.parse_args(argv)
    try:
        report = _run(measure(args.port, args.path, args.connections, args.duration))
    except OSError as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
