"""Idle keep-alive connections: what a server's memory grows by for each one it holds.

Each connection makes one complete request (so the server has set up
everything a served connection needs) and then stays open without a word.
The server's RSS and open file descriptors are read before and after; the
descriptor count proves the connections are really held, not already closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from benchmarks.server import HOST, ServerProcess

_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Opening thousands of connections at once would overflow the listen backlog;
# batches keep the pace at what the server accepts.
_BATCH = 250


class IdleError(Exception):
    """A connection failed, or the server did not hold the connections it was given."""


@dataclass(frozen=True)
class IdleMemory:
    """RSS growth for ``connections`` idle keep-alive connections."""

    connections: int
    rss_before_kib: int
    rss_after_kib: int

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.connections


async def _open_one(port: int) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(_REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if " 200 " not in status_line:
        raise IdleError(f"answer {status_line!r} to the first request")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return writer


async def _measure(server: ServerProcess, count: int) -> IdleMemory:
    # One request on a connection of its own first, so lazy imports and the
    # first request's allocations are in the baseline, not charged to the idle ones.
    (await _open_one(server.port)).close()
    fds_before, rss_before = server.open_fds(), server.rss_kib()
    writers: list[asyncio.StreamWriter] = []
    try:
        while len(writers) < count:
            batch = min(_BATCH, count - len(writers))
            writers += await asyncio.gather(*(_open_one(server.port) for _ in range(batch)))
        rss_after, held = server.rss_kib(), server.open_fds() - fds_before
        if held < count * 0.99:
            raise IdleError(f"server holds {held} of {count} idle connections (closed the rest?)")
        return IdleMemory(connections=count, rss_before_kib=rss_before, rss_after_kib=rss_after)
    finally:
        for writer in writers:
            writer.close()


def measure_idle_memory(server: ServerProcess, count: int) -> IdleMemory:
    """Open ``count`` keep-alive connections to ``server``, read its memory, close them."""
    return asyncio.run(asyncio.wait_for(_measure(server, count), timeout=300))
