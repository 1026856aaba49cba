"""HTTP/2 with the command-line clients people use: curl (nghttp2), nghttp and h2load.

The tools are installed from Debian's packages when missing (tests/debian_tools.py).
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.debian_tools import ensure_tool
from tests.protocols.apps import Recorder, hello
from tests.serving import serve


@pytest.fixture(scope="session")
def curl() -> str:
    return ensure_tool("curl", "curl")


@pytest.fixture(scope="session")
def nghttp() -> str:
    return ensure_tool("nghttp", "nghttp2-client")


@pytest.fixture(scope="session")
def h2load() -> str:
    return ensure_tool("h2load", "nghttp2-client")


@pytest.fixture(params=["zttp", "h2"])
def engine(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(str(request.param))
    return str(request.param)


async def run(*command: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode(errors="replace")
    return output.decode(errors="replace")


@pytest.mark.parametrize(
    "mode", ["--http2-prior-knowledge", "--http2"], ids=["prior-knowledge", "h2c-upgrade"]
)
async def test_curl_cleartext(curl: str, engine: str, mode: str) -> None:
    app = Recorder()
    async with serve(app, http2=True, http2_engine=engine, lifespan="off") as running:
        output = await run(curl, "-sS", mode, "-w", "|%{http_version}", running.url + "/curl?q=1")
    assert output == "/curl|2"
    assert app.scope["http_version"] == "2"
    assert app.scope["query_string"] == b"q=1"


async def test_curl_over_tls_negotiates_h2_by_alpn(
    curl: str,
    engine: str,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
) -> None:
    tls = {"ssl_certfile": tls_certificate_server_cert_path, "ssl_keyfile": tls_certificate_private_key_path}
    async with serve(hello, http2=True, http2_engine=engine, lifespan="off", **tls) as running:
        url = f"https://localhost:{running.port}/"
        h2 = await run(
            curl, "-sS", "--http2", "--cacert", tls_ca_certificate_pem_path, "-w", "|%{http_version}", url
        )
        h1 = await run(
            curl, "-sS", "--http1.1", "--cacert", tls_ca_certificate_pem_path, "-w", "|%{http_version}", url
        )
    assert h2 == "Hello, world|2"
    assert h1 == "Hello, world|1.1"


async def test_nghttp_fetches_over_prior_knowledge(nghttp: str, engine: str) -> None:
    async with serve(hello, http2=True, http2_engine=engine, lifespan="off") as running:
        output = await run(nghttp, "-v", running.url + "/")
    assert re.search(r":status: 200", output)
    assert "Hello, world" in output
    assert "recv SETTINGS frame" in output


async def test_h2load_many_streams_all_succeed(h2load: str, engine: str) -> None:
    async with serve(hello, http2=True, http2_engine=engine, lifespan="off", access_log=False) as running:
        output = await run(h2load, "-n", "2000", "-c", "4", "-m", "10", running.url + "/")
    assert "2000 succeeded, 0 failed, 0 errored" in output
    assert "2000 2xx" in output
