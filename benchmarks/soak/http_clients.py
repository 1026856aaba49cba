"""HTTP/1.1 clients for the soak, on asyncio protocols so that the client costs little per request.

:func:`open_idle` opens keep-alive connections that make one request each and
then stay silent. :class:`RequestLoad` keeps a number of connections busy until
a given count of requests has been answered, a few requests in flight on each
(pipelined), and reports progress so that the server's memory can be sampled
along the way. Every answer must be the app's ``200 ok``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["HOST", "RequestLoad", "SoakError", "open_idle"]

HOST = "127.0.0.1"
_GET = b"GET /soak HTTP/1.1\r\nHost: soak\r\n\r\n"
_POST = b"POST /soak HTTP/1.1\r\nHost: soak\r\nContent-Length: 32\r\n\r\n" + b"p" * 32
_STATUS = b"HTTP/1.1 "
_GOOD = b"HTTP/1.1 200 "
_END = b"\r\n\r\nok"  # every answer ends so: its head, then the body "ok"


class SoakError(Exception):
    """A client saw something other than the expected answer, or lost its connection."""


class _Answers(asyncio.Protocol):
    """Counts complete ``200 ok`` answers on one connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        data = self._tail + data
        end = data.rfind(_END)
        if end == -1:
            self._tail = data
            return
        complete, self._tail = data[: end + len(_END)], data[end + len(_END) :]
        answers = complete.count(_END)
        if complete.count(_STATUS) != answers or complete.count(_GOOD) != answers:
            self._fail(SoakError(f"unexpected answer: {complete[:200]!r}"))
            return
        self.answered(answers)

    def answered(self, count: int) -> None:
        raise NotImplementedError

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(SoakError(f"the server closed a connection ({exc})"))

    def _fail(self, error: Exception) -> None:
        if not self.lost.done():
            self.lost.set_exception(error)


class _IdleClient(_Answers):
    def __init__(self) -> None:
        super().__init__()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.write(_GET)  # type: ignore[attr-defined]

    def answered(self, count: int) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():  # before its answer: a failure
            self.ready.set_exception(SoakError(f"the server closed a connection ({exc})"))
        if not self.lost.done():
            self.lost.set_result(None)  # closed by us, or by the server: the server's fd count tells


async def open_idle(port: int, count: int, batch: int = 250) -> list[asyncio.Transport]:
    """``count`` connections that each made one request and now wait, silent (in batches: the backlog)."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.Transport] = []

    async def one() -> asyncio.Transport:
        transport, client = await loop.create_connection(_IdleClient, HOST, port)
        await client.ready
        return transport

    while len(transports) < count:
        transports += await asyncio.gather(*(one() for _ in range(min(batch, count - len(transports)))))
    return transports


class _LoadClient(_Answers):
    def __init__(self, load: RequestLoad) -> None:
        super().__init__()
        self._load = load
        self._in_flight = 0
        self._sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._next()

    def _next(self) -> None:
        """Send the next requests, or close once every request of the load has been sent."""
        load = self._load
        count = min(load.depth, load.unsent())
        assert self.transport is not None
        if count <= 0:
            self.transport.close()
            return
        load.sent += count
        requests = []
        for _ in range(count):
            self._sent += 1
            requests.append(_POST if self._sent % 4 == 0 else _GET)
        self._in_flight += count
        self.transport.write(b"".join(requests))

    def answered(self, count: int) -> None:
        self._in_flight -= count
        self._load.on_answers(count)
        if self._in_flight == 0:
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._in_flight:
            super().connection_lost(exc)
        elif not self.lost.done():
            self.lost.set_result(None)


class RequestLoad:
    """``total`` requests over ``connections`` keep-alive connections, ``depth`` in flight on each."""

    def __init__(
        self, port: int, total: int, connections: int, depth: int, progress: Callable[[int], None]
    ) -> None:
        self.port = port
        self.total = total
        self.connections = connections
        self.depth = depth
        self.sent = 0
        self.answered = 0
        self._progress = progress

    def unsent(self) -> int:
        return self.total - self.sent

    def on_answers(self, count: int) -> None:
        self.answered += count
        self._progress(self.answered)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        clients = []
        for _ in range(self.connections):
            _, client = await loop.create_connection(lambda: _LoadClient(self), HOST, self.port)
            clients.append(client)
        await asyncio.gather(*(client.lost for client in clients))
        if self.answered != self.total:
            raise SoakError(f"{self.answered} of {self.total} requests answered")
