"""The ``--admin-port`` listener: ``/metrics``, ``/livez`` and ``/readyz``, never the app.

It runs in a thread of its own (the standard library's WSGI server, one short-lived
thread per connection, at most :data:`MAX_CONNECTIONS` at once), so a scrape never
waits for the app's event loop and the app's port never answers these paths. In
a single server it lives in the server's process; with ``--workers``, in the
supervisor, which answers for every worker.

- ``/livez``: 200 while the process runs.
- ``/readyz``: 200 once the app's lifespan startup is done and it serves; 503
  before, and from the moment a shutdown begins (while connections drain).
- ``/metrics``: Prometheus text format (OpenMetrics when the scraper asks for it),
  made by prometheus-client from :class:`uvicorn._metrics_export.SnapshotCollector`.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from uvicorn._metrics import Snapshot
from uvicorn._metrics_export import SnapshotCollector

__all__ = ["MAX_CONNECTIONS", "AdminServer"]

#: Connections served at once; more are closed at once (the port is for scrapers and probes).
MAX_CONNECTIONS = 16
# Seconds a client may take to send its request.
_CLIENT_TIMEOUT = 10.0

_StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _QuietHandler(WSGIRequestHandler):
    timeout = _CLIENT_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes and probes every few seconds are not worth a line each


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _QuietHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's name up in DNS, which may be slow: not needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class AdminServer:
    """Serves the admin paths on ``host:port`` from a thread, between :meth:`start` and :meth:`stop`."""

    def __init__(
        self, host: str, port: int, metrics: Callable[[], Snapshot], ready: Callable[[], bool]
    ) -> None:
        from prometheus_client import CollectorRegistry

        self.host = host
        self.requested_port = port
        self._ready = ready
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SnapshotCollector(metrics))
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one picked when 0 was asked for)."""
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve; an ``OSError`` if the address cannot be bound."""
        family = socket.getaddrinfo(self.host, self.requested_port, type=socket.SOCK_STREAM)[0][0]
        server = _ThreadingServer((self.host, self.requested_port), family)
        server.set_app(self.wsgi)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="uvicorn-admin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listener."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def wsgi(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        """The admin paths, as a WSGI app."""
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        status, body, headers = self._respond(path, method, environ.get("HTTP_ACCEPT", ""))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [] if method == "HEAD" else [body]

    def _respond(self, path: str, method: str, accept: str) -> tuple[str, bytes, list[tuple[str, str]]]:
        text = [("Content-Type", "text/plain; charset=utf-8")]
        if path not in ("/metrics", "/livez", "/readyz"):
            return "404 Not Found", b"Not Found: this port serves /metrics, /livez and /readyz.\n", text
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", b"Method Not Allowed\n", [*text, ("Allow", "GET, HEAD")]
        if path == "/livez":
            return "200 OK", b"ok\n", text
        if path == "/readyz":
            if self._ready():
                return "200 OK", b"ready\n", text
            return "503 Service Unavailable", b"not ready\n", text
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept)
        return "200 OK", encoder(self.registry), [("Content-Type", content_type)]
