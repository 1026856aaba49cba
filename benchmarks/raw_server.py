"""The raw ceiling: uvloop + httptools answering every request with a canned response, no ASGI at all.

``python benchmarks/raw_server.py --port N`` serves the hello response (the
same status, headers and 14-byte body as the ASGI hello app behind uvicorn)
to every complete request, keep-alive, from bytes prepared once a second. It
measures what parsing and writing cost on this machine with nothing else in
the way: an ASGI server's rate divided by this one is the share of the
ceiling it reaches.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from email.utils import formatdate

import httptools
import uvloop

BODY = b"Hello, world!\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Canned:
    """The response bytes, rebuilt every second so the Date header stays right."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.response = b""
        self._loop = loop
        self._refresh()

    def _refresh(self) -> None:
        date = formatdate(usegmt=True).encode("ascii")
        self.response = (
            b"HTTP/1.1 200 OK\r\ndate: %s\r\nserver: uvicorn\r\n"
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n\r\n%s"
        ) % (date, len(BODY), BODY)
        self._loop.call_later(1.0, self._refresh)


class RawProtocol(asyncio.Protocol):
    """One connection: feed the parser, answer each complete request with the canned bytes."""

    def __init__(self, canned: Canned) -> None:
        self._canned = canned
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._transport.write(BAD_REQUEST)
            self._transport.close()

    # httptools callback
    def on_message_complete(self) -> None:
        assert self._transport is not None
        self._transport.write(self._canned.response)
        if not self._parser.should_keep_alive():
            self._transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    canned = Canned(loop)
    listener = socket.create_server((host, port), backlog=2048, reuse_port=False)
    server = await loop.create_server(lambda: RawProtocol(canned), sock=listener)
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    async with server:
        await stopped.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(serve(args.host, args.port))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
