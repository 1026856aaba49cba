"""The ``tls`` scope extension over real TLS connections, with and without client certificates (mTLS).

Certificates come from trustme: a root CA the server trusts (``ssl_ca_certs``),
an intermediate CA under it, and a client certificate issued by the intermediate,
which the client sends with its chain.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect

from tests.protocols.h2_client import H2Client
from tests.serving import RunningServer, serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable
from uvicorn.protocols.tls_info import rfc4514_name

TLS_1_3_SUITES = {
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
}


class ScopeRecorder:
    """Records each scope's extensions, answers HTTP with 200 and accepts then closes WebSockets."""

    def __init__(self) -> None:
        self.extensions: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        self.extensions.append(scope.get("extensions", {}))
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    @property
    def tls(self) -> dict[str, Any]:
        (extensions,) = self.extensions
        return extensions["tls"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def client_certificate(tls_certificate_authority: trustme.CA) -> trustme.LeafCert:
    """A client certificate issued by an intermediate CA of the test CA (so the chain has two)."""
    intermediate = tls_certificate_authority.create_child_ca()
    return intermediate.issue_cert(
        "client@example.org", common_name="Client, One", organization_name="Tests+Co"
    )


@pytest.fixture
def mtls_options(
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
) -> dict[str, Any]:
    return {
        "ssl_certfile": tls_certificate_server_cert_path,
        "ssl_keyfile": tls_certificate_private_key_path,
        "ssl_ca_certs": tls_ca_certificate_pem_path,
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "lifespan": "off",
    }


@pytest.fixture
def client_context(
    tls_certificate_authority: trustme.CA, client_certificate: trustme.LeafCert
) -> ssl.SSLContext:
    """Trusts the test CA and presents the client certificate with its chain."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_certificate_authority.configure_trust(context)
    client_certificate.configure_cert(context)
    return context


def der(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


def https(running: RunningServer) -> str:
    return f"https://localhost:{running.port}"


async def test_a_client_certificate_and_its_chain_reach_the_scope(
    http: str,
    mtls_options: dict[str, Any],
    client_context: ssl.SSLContext,
    client_certificate: trustme.LeafCert,
    tls_certificate: trustme.LeafCert,
) -> None:
    app = ScopeRecorder()
    async with serve(app, http=http, **mtls_options) as running:
        reader, writer = await asyncio.open_connection(
            running.host, running.port, ssl=client_context, server_hostname="localhost"
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 30)
        client_side: ssl.SSLObject = writer.get_extra_info("ssl_object")
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK")
    tls = app.tls
    assert set(tls) == {
        "server_cert",
        "client_cert_chain",
        "client_cert_name",
        "client_cert_error",
        "tls_version",
        "cipher_suite",
    }
    assert der(tls["server_cert"]) == der(tls_certificate.cert_chain_pems[0].bytes().decode())
    # What the client sent: its own certificate, then the intermediate that signed it.
    assert [der(pem) for pem in tls["client_cert_chain"]] == [
        der(pem.bytes().decode()) for pem in client_certificate.cert_chain_pems
    ]
    leaf = x509.load_pem_x509_certificate(client_certificate.cert_chain_pems[0].bytes())
    assert tls["client_cert_name"] == leaf.subject.rfc4514_string()
    assert "CN=Client\\, One" in tls["client_cert_name"]
    assert tls["client_cert_error"] is None
    assert client_side.version() == "TLSv1.3"
    assert tls["tls_version"] == 0x0304
    assert tls["cipher_suite"] == TLS_1_3_SUITES[client_side.cipher()[0]]  # type: ignore[index]


async def test_tls_1_2_version_and_cipher_suite_numbers(
    mtls_options: dict[str, Any], client_context: ssl.SSLContext
) -> None:
    client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    client_context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")  # RFC 5289: {0xC0, 0x2B}
    app = ScopeRecorder()
    async with serve(app, **mtls_options) as running, httpx.AsyncClient(verify=client_context) as client:
        response = await client.get(https(running) + "/")
    assert response.status_code == 200
    assert (app.tls["tls_version"], app.tls["cipher_suite"]) == (0x0303, 0xC02B)


async def test_without_a_client_certificate_the_client_fields_are_empty(
    mtls_options: dict[str, Any], tls_ca_ssl_context: ssl.SSLContext
) -> None:
    app = ScopeRecorder()
    options = {**mtls_options, "ssl_cert_reqs": ssl.CERT_OPTIONAL}
    async with serve(app, **options) as running, httpx.AsyncClient(verify=tls_ca_ssl_context) as client:
        response = await client.get(https(running) + "/")
    assert response.status_code == 200
    assert (app.tls["client_cert_chain"], app.tls["client_cert_name"]) == ([], None)
    assert app.tls["server_cert"] is not None


async def test_a_required_client_certificate_that_is_missing_never_reaches_the_app(
    mtls_options: dict[str, Any], tls_ca_ssl_context: ssl.SSLContext
) -> None:
    app = ScopeRecorder()
    async with serve(app, **mtls_options) as running, httpx.AsyncClient(verify=tls_ca_ssl_context) as client:
        with pytest.raises(httpx.HTTPError):
            await client.get(https(running) + "/")
    assert app.extensions == []


async def test_plain_http_has_no_tls_extension() -> None:
    app = ScopeRecorder()
    async with serve(app, lifespan="off") as running, httpx.AsyncClient() as client:
        await client.get(running.url + "/")
    assert "tls" not in app.extensions[0]


async def test_a_change_to_one_requests_extensions_is_not_seen_by_the_next(
    mtls_options: dict[str, Any], client_context: ssl.SSLContext
) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        extensions = scope["extensions"]
        seen.append({"names": sorted(extensions), "name": extensions["tls"]["client_cert_name"]})
        extensions["tls"]["client_cert_name"] = "CN=someone else"  # a middleware rewriting it
        extensions["x-added"] = {}
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with serve(app, **mtls_options) as running, httpx.AsyncClient(verify=client_context) as client:
        await client.get(https(running) + "/")
        await client.get(https(running) + "/")  # the same keep-alive connection
    assert seen[0] == seen[1]
    assert "x-added" not in seen[1]["names"]


@pytest.mark.parametrize("engine", ["h2", "zttp"])
async def test_http2_streams_carry_the_tls_extension(
    engine: str, mtls_options: dict[str, Any], client_context: ssl.SSLContext
) -> None:
    pytest.importorskip(engine)
    app = ScopeRecorder()
    options = {**mtls_options, "http2": True, "http2_engine": engine}
    async with (
        serve(app, **options) as running,
        httpx.AsyncClient(verify=client_context, http1=False, http2=True) as client,
    ):
        response = await client.get(https(running) + "/")
    assert response.http_version == "HTTP/2"
    assert "CN=Client\\, One" in app.tls["client_cert_name"]
    assert len(app.tls["client_cert_chain"]) == 2


async def test_websocket_scopes_over_tls_carry_it(
    ws: type[Any], mtls_options: dict[str, Any], client_context: ssl.SSLContext
) -> None:
    app = ScopeRecorder()
    async with (
        serve(app, ws=ws, **mtls_options) as running,
        connect(f"wss://localhost:{running.port}/", ssl=client_context) as websocket,
    ):
        await websocket.wait_closed()
    (extensions,) = app.extensions
    assert "websocket.http.response" in extensions
    assert "CN=Client\\, One" in extensions["tls"]["client_cert_name"]


@pytest.mark.parametrize("engine", ["h2", "zttp"])
async def test_websockets_over_http2_carry_it(
    engine: str, mtls_options: dict[str, Any], client_context: ssl.SSLContext
) -> None:
    pytest.importorskip(engine)
    app = ScopeRecorder()
    options = {**mtls_options, "http2": True, "http2_engine": engine, "ws": "websockets-sansio"}
    async with serve(app, **options) as running, H2Client.connect(running, tls=client_context) as client:
        headers = [(":protocol", "websocket"), ("sec-websocket-version", "13")]
        stream_id = await client.send("CONNECT", "/", headers=headers, end=False)
        response = await client.response(stream_id)
    assert response.status == 200
    (extensions,) = app.extensions
    assert "CN=Client\\, One" in extensions["tls"]["client_cert_name"]


# ---------------------------------------------------------------- RFC 4514 names


def certificate_with_subject(path: Path, subject: x509.Name) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2100, 1, 1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize(
    "attributes",
    [
        [(NameOID.COMMON_NAME, "plain")],
        [(NameOID.COUNTRY_NAME, "FR"), (NameOID.ORGANIZATION_NAME, "A, B + C"), (NameOID.COMMON_NAME, "x")],
        [(NameOID.COMMON_NAME, "#hash first"), (NameOID.ORGANIZATIONAL_UNIT_NAME, " spaces around ")],
        [(NameOID.COMMON_NAME, 'quote " semi ; angle <> back \\ slash')],
        [(NameOID.DOMAIN_COMPONENT, "org"), (NameOID.DOMAIN_COMPONENT, "example"), (NameOID.USER_ID, "u1")],
        [(NameOID.EMAIL_ADDRESS, "someone@example.org"), (NameOID.SERIAL_NUMBER, "42")],
        [
            (NameOID.STREET_ADDRESS, "1 Main St"),
            (NameOID.LOCALITY_NAME, "Town"),
            (NameOID.STATE_OR_PROVINCE_NAME, "S"),
        ],
    ],
    ids=["plain", "specials", "leading-and-trailing", "all-escapes", "dc-and-uid", "dotted-oids", "street"],
)
def test_subjects_are_written_as_rfc_4514_says(tmp_path: Path, attributes: list[tuple[Any, str]]) -> None:
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    path = certificate_with_subject(tmp_path / "cert.pem", subject)
    decoded = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]  # what getpeercert() returns
    assert rfc4514_name(decoded["subject"]) == subject.rfc4514_string()


def test_a_multi_valued_rdn_joins_its_values_with_plus(tmp_path: Path) -> None:
    rdn = x509.RelativeDistinguishedName(
        [x509.NameAttribute(NameOID.COMMON_NAME, "a"), x509.NameAttribute(NameOID.USER_ID, "b")]
    )
    subject = x509.Name(
        [x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]), rdn]
    )
    path = certificate_with_subject(tmp_path / "cert.pem", subject)
    decoded = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    name = rfc4514_name(decoded["subject"])
    assert name.endswith(",C=DE")
    assert set(name.removesuffix(",C=DE").split("+")) == {"CN=a", "UID=b"}
