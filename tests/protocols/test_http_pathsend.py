"""``http.response.pathsend`` and ``http.response.zerocopysend`` on HTTP/1.1, through real clients.

The server sends the file itself: ``os.sendfile`` on plain TCP (with asyncio's
loop and with uvloop), bounded reads under TLS. What the client gets must be the
file, byte for byte, whichever way it went; a stalled client holds the app's
``send()`` (nothing piles up in memory), a client that leaves mid-file ends it,
and the server never keeps a file it opened.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.protocols.raw_http import RawClient, request
from tests.protocols.test_http_access_format import Records, records  # noqa: F401  (a fixture)
from tests.serving import RunningServer, serve, serve_in_thread
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope

LOOPS = ["asyncio", "uvloop"]
BIG = 48 * 1024 * 1024  # far more than a stalled client's socket buffers can hold
WAIT = 30.0  # bound on waits for the server thread (a hang fails the test instead of stalling it)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "small.bin"
    path.write_bytes(os.urandom(50 * 1024 + 7))
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "big.bin"
    with path.open("wb") as file:
        for _ in range(BIG // (1 << 20)):
            file.write(os.urandom(1 << 20))
    return path


def open_descriptors(path: Path) -> int:
    """How many descriptors of this process are open on ``path`` (the server runs in this process)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == str(path):
                count += 1
        except OSError:
            pass  # closed meanwhile (the listing's own descriptor)
    return count


def pathsend_app(path: Path, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert "http.response.pathsend" in scope["extensions"]
        await send({"type": "http.response.start", "status": 200, "headers": headers or []})
        await send({"type": "http.response.pathsend", "path": str(path)})

    return app


@pytest.fixture
def tls_options(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> dict[str, Any]:
    return {"ssl_certfile": tls_certificate_server_cert_path, "ssl_keyfile": tls_certificate_private_key_path}


@pytest.fixture(params=[False, True], ids=["tcp", "tls"])
def transport_options(request: pytest.FixtureRequest, tls_options: dict[str, Any]) -> dict[str, Any]:
    """Plain TCP (os.sendfile) or TLS (bounded reads)."""
    return tls_options if request.param else {}


@pytest.fixture(params=LOOPS)
def loop(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------- the bytes arrive


async def test_pathsend_sends_the_file_with_its_length(http: str, small_file: Path) -> None:
    async with (
        serve(pathsend_app(small_file), http=http, lifespan="off") as running,
        httpx.AsyncClient() as client,
    ):
        response = await client.get(running.url + "/")
        again = await client.get(running.url + "/")  # the connection goes on
    assert response.content == again.content == small_file.read_bytes()
    assert response.headers["content-length"] == str(small_file.stat().st_size)
    assert "transfer-encoding" not in response.headers
    assert open_descriptors(small_file) == 0


async def test_every_loop_and_transport_sends_the_same_bytes(
    loop: str, transport_options: dict[str, Any], big_file: Path, tls_ca_ssl_context: ssl.SSLContext
) -> None:
    with serve_in_thread(pathsend_app(big_file), loop=loop, lifespan="off", **transport_options) as running:
        async with httpx.AsyncClient(verify=tls_ca_ssl_context) as client:
            digest = hashlib.sha256()
            async with client.stream("GET", running.url.replace("127.0.0.1", "localhost") + "/") as response:
                async for chunk in response.aiter_raw():
                    digest.update(chunk)
    assert response.headers["content-length"] == str(BIG)
    assert digest.hexdigest() == hashlib.sha256(big_file.read_bytes()).hexdigest()


async def test_head_gets_the_length_and_no_body(small_file: Path) -> None:
    async with (
        serve(pathsend_app(small_file), lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("HEAD"))
        head = await client.read_response(head_request=True)
        await client.send(request("GET"))  # nothing of the file came after the HEAD response
        response = await client.read_response()
    assert head.header(b"content-length") == b"%d" % small_file.stat().st_size
    assert response.body == small_file.read_bytes()


async def test_the_apps_content_length_is_kept_when_it_is_the_files(small_file: Path) -> None:
    size = b"%d" % small_file.stat().st_size
    app = pathsend_app(
        small_file, [(b"content-length", size), (b"content-type", b"application/octet-stream")]
    )
    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
    assert response.header_list(b"content-length") == [size]
    assert response.body == small_file.read_bytes()


async def test_http10_client_gets_the_file_then_the_connection_closes(small_file: Path) -> None:
    async with (
        serve(pathsend_app(small_file), lifespan="off") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request(version="HTTP/1.0"))
        response = await client.read_response()
        assert await client.closed()
    assert response.body == small_file.read_bytes()


async def test_starlette_file_response_uses_pathsend(small_file: Path) -> None:
    from starlette.responses import FileResponse

    sent: list[dict[str, Any]] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        async def recording_send(message: Any) -> None:
            sent.append(message)
            await send(message)

        await FileResponse(small_file)(scope, receive, recording_send)  # type: ignore[arg-type]

    async with serve(app, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/")
    assert response.content == small_file.read_bytes()
    assert response.headers["content-length"] == str(small_file.stat().st_size)
    # Starlette did not read the file: it asked the server to send it.
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.pathsend"]


# ---------------------------------------------------------------- zerocopysend


async def test_zerocopysend_ranges_mix_with_body_messages(small_file: Path) -> None:
    data = small_file.read_bytes()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert "http.response.zerocopysend" in scope["extensions"]
        with small_file.open("rb") as file:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            message = {"type": "http.response.zerocopysend", "file": file, "offset": 10, "count": 100}
            await send({**message, "more_body": True})
            await send({"type": "http.response.body", "body": b"|", "more_body": True})
            await send({"type": "http.response.zerocopysend", "file": file.fileno(), "offset": 5000})

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
    assert response.chunked
    assert response.body == data[10:110] + b"|" + data[5000:]


async def test_zerocopysend_without_offset_starts_at_the_file_position_and_moves_it(small_file: Path) -> None:
    data = small_file.read_bytes()
    positions: list[int] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        with small_file.open("rb") as file:
            file.read(1000)  # a buffered file: its descriptor has read ahead, its position is 1000
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.zerocopysend", "file": file, "count": 24, "more_body": True})
            positions.append(file.tell())
            await send({"type": "http.response.zerocopysend", "file": file})
            positions.append(file.tell())

    async with serve(app, lifespan="off") as running, httpx.AsyncClient() as client:
        response = await client.get(running.url + "/")
    assert response.content == data[1000:]
    assert positions == [1024, len(data)]


async def test_zerocopysend_alone_gets_a_content_length(small_file: Path) -> None:
    data = small_file.read_bytes()

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        with small_file.open("rb") as file:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.zerocopysend", "file": file, "offset": 7, "count": 4096})

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
    assert (response.header(b"content-length"), response.body) == (b"4096", data[7:4103])


# ---------------------------------------------------------------- what cannot be sent is a 500


@pytest.fixture
def unusable_paths(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return {"missing": tmp_path / "missing.bin", "directory": tmp_path, "fifo": fifo}


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo"])
async def test_a_path_that_cannot_be_sent_is_a_500_before_anything_is_sent(
    kind: str, unusable_paths: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-file", b"yes")]})
        try:
            await send({"type": "http.response.pathsend", "path": str(unusable_paths[kind])})
        except OSError as exc:
            errors.append(exc)
            raise

    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
        assert await client.closed()
    assert response.status == 500
    assert response.header(b"x-file") is None  # the app's head was never written
    assert len(errors) == 1
    assert "Exception in ASGI application" in caplog.text


async def test_a_content_length_that_is_not_the_files_is_a_500(small_file: Path) -> None:
    app = pathsend_app(small_file, [(b"content-length", b"10")])
    async with serve(app, lifespan="off") as running, RawClient.connect(running) as client:
        await client.send(request())
        response = await client.read_response()
    assert response.status == 500


# ---------------------------------------------------------------- slow and vanishing clients


class FileServing:
    """A pathsend app that tells the test when its ``send()`` of the file returned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.returned = threading.Event()

    async def __call__(self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": str(self.path)})
        self.returned.set()


def connect(running: RunningServer, tls: ssl.SSLContext | None) -> socket.socket:
    """A blocking client socket with a small receive buffer, so that a client that stops reading
    stops the server soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(WAIT)
    sock.connect((running.host, running.port))
    if tls is not None:
        return tls.wrap_socket(sock, server_hostname="localhost")
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The response head and the body bytes that came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed after {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_exactly(sock: socket.socket, count: int, digest: Any) -> None:
    while count > 0:
        chunk = sock.recv(min(count, 1 << 20))
        assert chunk, f"the server closed with {count} bytes still to come"
        digest.update(chunk)
        count -= len(chunk)


def probe_server(running: RunningServer, app: FileServing) -> tuple[bool, int]:
    """On the server's loop, between two of its steps: did the app's send() return, and how many
    bytes does the connection's transport hold? (A server that read the whole file into memory
    without yielding would have finished that before this runs.)"""
    (connection,) = running.server.server_state.connections
    answer: list[tuple[bool, int]] = []
    done = threading.Event()

    def probe() -> None:
        answer.append((app.returned.is_set(), connection.transport.get_write_buffer_size()))  # type: ignore[attr-defined]
        done.set()

    connection.loop.call_soon_threadsafe(probe)  # type: ignore[attr-defined]
    assert done.wait(WAIT)
    return answer[0]


@pytest.fixture
def client_tls(
    transport_options: dict[str, Any], tls_ca_ssl_context: ssl.SSLContext
) -> ssl.SSLContext | None:
    return tls_ca_ssl_context if transport_options else None


def test_a_stalled_client_holds_the_send_until_it_reads(
    loop: str, transport_options: dict[str, Any], client_tls: ssl.SSLContext | None, big_file: Path
) -> None:
    app = FileServing(big_file)
    digest = hashlib.sha256()
    with (
        serve_in_thread(app, loop=loop, lifespan="off", **transport_options) as running,
        connect(running, client_tls) as sock,
    ):
        sock.sendall(request())
        head, rest = read_head(sock)
        digest.update(rest)
        read_exactly(sock, (1 << 20) - len(rest), digest)
        # The client has read 1 MiB of 48. Whatever the kernel buffers hold, the rest of the file
        # cannot have left: the app still waits in send(), and the server holds at most a chunk.
        returned, buffered = probe_server(running, app)
        assert not returned
        assert buffered <= 1 << 20
        read_exactly(sock, BIG - (1 << 20), digest)
        assert app.returned.wait(WAIT)
    assert b"content-length: %d" % BIG in head
    assert digest.hexdigest() == hashlib.sha256(big_file.read_bytes()).hexdigest()
    assert open_descriptors(big_file) == 0


def test_a_client_leaving_mid_file_ends_the_send_and_the_file_is_closed(
    loop: str, transport_options: dict[str, Any], client_tls: ssl.SSLContext | None, big_file: Path
) -> None:
    app = FileServing(big_file)
    with serve_in_thread(app, loop=loop, lifespan="off", **transport_options) as running:
        with connect(running, client_tls) as sock:
            sock.sendall(request())
            read_head(sock)
            read_exactly(sock, 1 << 20, hashlib.sha256())
            # Reset, not FIN: the server learns at once that nobody reads any more.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert app.returned.wait(WAIT)  # send() returned: the app goes on, without an error
        assert open_descriptors(big_file) == 0
        with connect(running, client_tls) as sock:  # and the server serves on
            sock.sendall(request("HEAD"))
            head, _ = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200 OK")


def test_shutdown_ends_a_send_stalled_on_a_client_that_does_not_read(loop: str, big_file: Path) -> None:
    # Plain TCP: the sendfile sender watches a duplicate of the socket's descriptor, which
    # must not outlive the send and keep the connection open after the server closed it.
    app = FileServing(big_file)
    with serve_in_thread(app, loop=loop, lifespan="off", timeout_graceful_shutdown=0.1) as running:
        sock = connect(running, None)
        sock.sendall(request())
        read_head(sock)
    # The server stopped (the block's end waits for it); the client, reading on, reaches the
    # end of the connection: nothing kept its socket open.
    received = 0
    with sock:
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
    assert received < BIG
    assert not app.returned.is_set()
    assert open_descriptors(big_file) == 0


async def test_the_access_line_counts_the_files_bytes(small_file: Path, records: Records) -> None:  # noqa: F811
    options = {"lifespan": "off", "log_config": None, "access_log_format": "%(s)s %(B)s"}
    async with serve(pathsend_app(small_file), **options) as running, httpx.AsyncClient() as client:
        await client.get(running.url + "/")
        await asyncio.wait_for(records.arrived.wait(), WAIT)
    assert records.lines == [f"200 {small_file.stat().st_size}"]
