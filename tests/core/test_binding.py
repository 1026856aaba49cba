"""Where a server listens: ``bind`` addresses, ``Config.bind_sockets()``, dual-stack ``::``."""

from __future__ import annotations

import logging
import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from tests.core.test_server import has_ipv6_loopback, hello, running_server
from uvicorn._bind_addresses import BindAddress, parse_bind_address
from uvicorn._binding import reuse_port_copy
from uvicorn.config import Config
from uvicorn.server import Server


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8000", BindAddress("tcp", host="127.0.0.1", port=8000)),
        ("localhost:0", BindAddress("tcp", host="localhost", port=0)),
        ("[::1]:443", BindAddress("tcp", host="::1", port=443)),
        ("[fe80::1%eth0]:80", BindAddress("tcp", host="fe80::1%eth0", port=80)),
        ("unix:/run/app.sock", BindAddress("unix", path="/run/app.sock")),
        ("fd://3", BindAddress("fd", fd=3)),
    ],
)
def test_bind_address_forms(text: str, expected: BindAddress) -> None:
    assert parse_bind_address(text) == expected


@pytest.mark.parametrize(
    "text", ["127.0.0.1", ":8000", "::1:80", "[nope]:80", "host:65536", "host:http", "unix:", "fd://x", ""]
)
def test_what_is_not_a_bind_address(text: str) -> None:
    assert parse_bind_address(text) is None


async def test_one_server_on_tcp_and_unix_addresses(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    path = str(tmp_path / "app.sock")
    config = Config(hello, bind=["127.0.0.1:0", f"unix:{path}"])
    async with running_server(config) as server:
        tcp, unix = (server_.sockets[0] for server_ in server.servers)
        port = tcp.getsockname()[1]
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o666
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}")).text == "hello"
        async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=path)) as client:
            assert (await client.get("http://uvicorn/")).text == "hello"
        assert unix.family == socket.AF_UNIX
    assert f"Uvicorn running on http://127.0.0.1:{port} (Press CTRL+C to quit)" in caplog.messages
    assert f"Uvicorn running on unix socket {path} (Press CTRL+C to quit)" in caplog.messages
    assert not Path(path).exists()  # the server removes the socket file it created


def test_bind_sockets_binds_every_address_and_bind_socket_stays_singular(tmp_path: Path) -> None:
    path = str(tmp_path / "app.sock")
    sockets = Config(hello, bind=["127.0.0.1:0", f"unix:{path}"]).bind_sockets()
    try:
        assert [sock.family for sock in sockets] == [socket.AF_INET, socket.AF_UNIX]
        assert all(sock.get_inheritable() for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    with Config(hello, port=0).bind_socket() as single:
        assert single.family == socket.AF_INET


def test_a_host_name_is_bound_on_every_address_it_resolves_to() -> None:
    resolved = {info[4][0] for info in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)}
    sockets = Config(hello, bind=["localhost:0"]).bind_sockets()
    try:
        assert {sock.getsockname()[0] for sock in sockets} == resolved
    finally:
        for sock in sockets:
            sock.close()


async def test_a_failed_bind_closes_the_sockets_already_bound(tmp_path: Path) -> None:
    path = tmp_path / "first.sock"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = Server(Config(hello, bind=[f"unix:{path}", f"127.0.0.1:{port}"]))
        with pytest.raises(SystemExit) as info:
            await server.serve()
    assert info.value.code == 3
    assert not path.exists()  # the first address was bound, then undone


@pytest.mark.skipif(not has_ipv6_loopback(), reason="::1 is not available")
async def test_ipv6_wildcard_serves_ipv4_too() -> None:
    async with running_server(Config(hello, host="::", port=0)) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}")).text == "hello"
            assert (await client.get(f"http://[::1]:{port}")).text == "hello"


async def test_no_host_serves_every_interface() -> None:
    # host=None (upstream's tests pass it): every address, as asyncio's create_server(host=None).
    async with running_server(Config(hello, host=None, port=0)) as server:  # type: ignore[arg-type]
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}")).text == "hello"


def test_reuse_port_copies_share_the_address() -> None:
    sockets = Config(hello, bind=["127.0.0.1:0"], reuse_port=True).bind_sockets()
    [original] = sockets
    copy = reuse_port_copy(original)
    with original, copy:
        assert copy.getsockname() == original.getsockname()
        assert copy.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)


async def test_every_bind_address_serves_tls_and_logs_https(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
) -> None:
    caplog.set_level(logging.INFO)
    path = str(tmp_path / "tls.sock")
    config = Config(
        hello,
        bind=["127.0.0.1:0", f"unix:{path}"],
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
    )
    async with running_server(config) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(verify=tls_ca_ssl_context) as client:
            assert (await client.get(f"https://localhost:{port}")).text == "hello"
        transport = httpx.AsyncHTTPTransport(uds=path, verify=tls_ca_ssl_context)
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get("https://localhost/")).text == "hello"
    assert f"Uvicorn running on https://127.0.0.1:{port} (Press CTRL+C to quit)" in caplog.messages
