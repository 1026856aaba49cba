"""Continuous load over keep-alive connections, counting every request that fails, for deploy tests.

A few client threads, each with one HTTP/1.1 connection at a time, send GET
requests back to back and read each response (``pid_of`` reads the answering
process's id from the body). A client opens a new connection only when the server closed its
previous one after a ``connection: close`` response, as HTTP clients do. Any
other ending (a reset, a close without a response, a refused connection, a
status other than 200) is a failure: a request lost by the server.

    load = KeepAliveLoad("127.0.0.1", port, clients=4)
    load.start()
    ...                          # restart the server under it
    load.finish()                # no new connections; each client ends once its own is closed
    assert load.failures == []

:meth:`finish` first makes sure every client has seen the order (so none opens
a connection the stopping server would never accept), then returns; the
clients keep using their connections until the server closes them, which
:meth:`join` waits for.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable

from tests.processes import SAFETY_TIMEOUT

__all__ = ["KeepAliveLoad"]

_REQUEST = b"GET / HTTP/1.1\r\nHost: load.test\r\n\r\n"


class _Response:
    def __init__(self, status: int, headers: dict[bytes, bytes], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _read_response(sock: socket.socket) -> _Response | None:
    """One response with a content-length (our apps send one), or None if the connection ended first."""
    file = sock.makefile("rb")
    try:
        status_line = file.readline()
        if not status_line:
            return None
        headers: dict[bytes, bytes] = {}
        while (line := file.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if line == b"":
            return None
        body = file.read(int(headers.get(b"content-length", b"0")))
        return _Response(int(status_line.split(b" ")[1]), headers, body)
    finally:
        file.close()


class KeepAliveLoad:
    """``clients`` threads of back-to-back requests over keep-alive connections."""

    def __init__(self, host: str, port: int, clients: int = 4, pid_of: Callable[[bytes], int] = int) -> None:
        self.address = (host, port)
        self.pid_of = pid_of
        self.failures: list[str] = []
        self.answered_by: Counter[int] = Counter()
        self.requests = 0
        self.connections = 0
        self._finishing = threading.Event()
        self._seen_finish = [threading.Event() for _ in range(clients)]
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(index,), name=f"load-{index}", daemon=True)
            for index in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def answered_by_any(self, pids: set[int]) -> threading.Event:
        """An event set once one of ``pids`` has answered a request (polls the counter, for waiting)."""
        event = threading.Event()
        with self._lock:
            self._watch = (pids, event)
        return event

    def finish(self) -> None:
        """No client opens another connection; returns once every client knows it."""
        self._finishing.set()
        for seen in self._seen_finish:
            assert seen.wait(SAFETY_TIMEOUT), "a client did not take notice"

    def join(self) -> None:
        """Until every client's last connection was closed by the server."""
        for thread in self._threads:
            thread.join(SAFETY_TIMEOUT)
            assert not thread.is_alive(), "a client's connection was never closed"

    def _fail(self, what: str) -> None:
        with self._lock:
            self.failures.append(what)

    def _client(self, index: int) -> None:
        while True:
            if self._finishing.is_set():
                self._seen_finish[index].set()
                return
            try:
                sock = socket.create_connection(self.address, timeout=SAFETY_TIMEOUT)
            except OSError as exc:
                self._fail(f"connect: {exc!r}")
                continue
            with self._lock:
                self.connections += 1
            with sock:
                self._serve_on(index, sock)

    def _serve_on(self, index: int, sock: socket.socket) -> None:
        """Send requests on ``sock`` until the server says it closes it (or something fails)."""
        while True:
            if self._finishing.is_set():
                self._seen_finish[index].set()  # from here on, only this connection is used
            try:
                sock.sendall(_REQUEST)
                response = _read_response(sock)
            except OSError as exc:
                self._fail(f"request: {exc!r}")
                return
            if response is None:
                self._fail("the connection closed without a response")
                return
            if response.status != 200:
                self._fail(f"status {response.status}")
            with self._lock:
                self.requests += 1
                pid = self.pid_of(response.body)
                self.answered_by[pid] += 1
                watch = getattr(self, "_watch", None)
                if watch is not None and pid in watch[0]:
                    watch[1].set()
            if response.headers.get(b"connection") == b"close":
                if sock.recv(1) != b"":
                    self._fail("bytes after a closing response")
                return
