"""TLS: serving https with trustme certificates, and every TLS mistake as one line and exit code 3."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import TLS_KEY_PASSWORD
from tests.core.apps import echo_scope, hello
from tests.processes import error_lines, run_python
from tests.serving import serve
from uvicorn.config import Config
from uvicorn.server import Server


async def https_get(url: str, context: ssl.SSLContext) -> httpx.Response:
    async with httpx.AsyncClient(verify=context) as client:
        return await client.get(url)


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_https(
    http: str,
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
) -> None:
    async with serve(
        echo_scope,
        http=http,
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
        ssl_ca_certs=tls_ca_certificate_pem_path,
    ) as running:
        assert running.url.startswith("https://")
        response = await https_get(running.url + "/secure", tls_ca_ssl_context)
    assert response.json()["scheme"] == "https"
    assert response.json()["path"] == "/secure"


async def test_https_key_and_chain_in_one_file(
    tls_ca_ssl_context: ssl.SSLContext, tls_certificate_key_and_chain_path: str
) -> None:
    async with serve(echo_scope, ssl_certfile=tls_certificate_key_and_chain_path) as running:
        assert (await https_get(running.url, tls_ca_ssl_context)).status_code == 200


async def test_https_encrypted_key(
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_encrypted_path: str,
) -> None:
    async with serve(
        echo_scope,
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_encrypted_path,
        ssl_keyfile_password=TLS_KEY_PASSWORD,
    ) as running:
        assert (await https_get(running.url, tls_ca_ssl_context)).status_code == 200


async def test_ssl_context_factory_adjusts_the_default(
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
) -> None:
    def factory(config: Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        context = default()
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        return context

    async with serve(
        echo_scope,
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
        ssl_context_factory=factory,
    ) as running:
        assert (await https_get(running.url, tls_ca_ssl_context)).status_code == 200
        assert running.config.ssl is not None
        assert running.config.ssl.minimum_version == ssl.TLSVersion.TLSv1_3


async def test_ssl_context_factory_alone(
    tls_ca_ssl_context: ssl.SSLContext,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
) -> None:
    def factory(config: Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_certificate_server_cert_path, tls_certificate_private_key_path)
        return context

    async with serve(echo_scope, ssl_context_factory=factory) as running:
        assert running.config.is_ssl
        assert (await https_get(running.url, tls_ca_ssl_context)).status_code == 200


def test_ciphers_and_client_certificates_are_applied(
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
) -> None:
    config = Config(
        echo_scope,
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
        ssl_ca_certs=tls_ca_certificate_pem_path,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        ssl_ciphers="ECDHE+AESGCM",
    )
    config.load()
    assert config.ssl is not None
    assert config.ssl.verify_mode == ssl.CERT_REQUIRED
    # TLS 1.3 suites ("TLS_...") are not governed by the cipher string; the others must match it.
    tls12 = [cipher["name"] for cipher in config.ssl.get_ciphers() if not cipher["name"].startswith("TLS_")]
    assert tls12
    assert all(name.startswith("ECDHE-") and "GCM" in name for name in tls12)


# ---------------------------------------------------------------- mistakes: one line, exit 3


def start_with_tls(code: str = "", **options: str) -> tuple[int, list[str]]:
    """Run uvicorn.run with ``options`` (values quoted) and ``code`` (keyword arguments as written)."""
    arguments = [f"{name}={value!r}" for name, value in options.items()]
    if code:
        arguments.append(code)
    result = run_python(
        f'import uvicorn; uvicorn.run("tests.core.apps:hello", port=0, {", ".join(arguments)})'
    )
    return result.returncode, error_lines(result.stderr)


def test_wrong_key_password(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_encrypted_path: str
) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_encrypted_path,
        ssl_keyfile_password="not it",
    )
    assert code == 3
    assert lines == [
        "ERROR:    Invalid value for 'ssl_keyfile_password' (--ssl-keyfile-password): the password does not "
        f"decrypt the key in {tls_certificate_private_key_encrypted_path!r}."
    ]


def test_encrypted_key_without_password(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_encrypted_path: str
) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_server_cert_path, ssl_keyfile=tls_certificate_private_key_encrypted_path
    )
    assert code == 3
    assert lines == [
        "ERROR:    Invalid value for 'ssl_keyfile_password' (--ssl-keyfile-password): the private key in "
        f"{tls_certificate_private_key_encrypted_path!r} is encrypted; give its password."
    ]


@pytest.mark.parametrize(
    ("option", "flag"),
    [
        ("ssl_certfile", "--ssl-certfile"),
        ("ssl_keyfile", "--ssl-keyfile"),
        ("ssl_ca_certs", "--ssl-ca-certs"),
    ],
)
def test_missing_file(
    option: str, flag: str, tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> None:
    files = {
        "ssl_certfile": tls_certificate_server_cert_path,
        "ssl_keyfile": tls_certificate_private_key_path,
    }
    files[option] = "/no/such/file.pem"
    code, lines = start_with_tls(**files)
    assert code == 3
    assert lines == [f"ERROR:    Invalid value for '{option}' ({flag}): no such file: '/no/such/file.pem'."]


def test_key_that_does_not_match_the_certificate(
    tls_certificate_server_cert_path: str, tls_ca_certificate_private_key_path: str
) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_server_cert_path, ssl_keyfile=tls_ca_certificate_private_key_path
    )
    assert code == 3
    assert lines == [
        "ERROR:    Invalid value for 'ssl_keyfile' (--ssl-keyfile): the private key in "
        f"{tls_ca_certificate_private_key_path!r} does not belong to the certificate."
    ]


def test_not_a_certificate(tls_certificate_private_key_path: str, tls_ca_certificate_pem_path: str) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_private_key_path, ssl_keyfile=tls_certificate_private_key_path
    )
    assert code == 3
    assert len(lines) == 1
    assert lines[0].startswith("ERROR:    Invalid value for 'ssl_certfile/ssl_keyfile': could not load a PEM")


def test_ca_file_without_certificates(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
        ssl_ca_certs=tls_certificate_private_key_path,
    )
    assert code == 3
    assert len(lines) == 1
    assert lines[0].startswith(
        "ERROR:    Invalid value for 'ssl_ca_certs' (--ssl-ca-certs): no PEM CA certificate"
    )


def test_ciphers_nothing_matches(
    tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> None:
    code, lines = start_with_tls(
        ssl_certfile=tls_certificate_server_cert_path,
        ssl_keyfile=tls_certificate_private_key_path,
        ssl_ciphers="NO-SUCH-CIPHER",
    )
    assert code == 3
    assert lines == [
        "ERROR:    Invalid value for 'ssl_ciphers' (--ssl-ciphers): OpenSSL selects no cipher from "
        "'NO-SUCH-CIPHER'; see the OpenSSL cipher list format."
    ]


def test_factory_must_return_a_context() -> None:
    code, lines = start_with_tls("ssl_context_factory=lambda config, default: 'not a context'")
    assert code == 3
    assert lines == [
        "ERROR:    Invalid value for 'ssl_context_factory': it must return an `ssl.SSLContext`, "
        "it returned str."
    ]


@pytest.mark.parametrize("how", ["default factory", "key alone"])
def test_tls_without_a_certificate(how: str, tls_certificate_private_key_path: str) -> None:
    if how == "default factory":
        exit_code, lines = start_with_tls("ssl_context_factory=lambda config, default: default()")
    else:
        exit_code, lines = start_with_tls(ssl_keyfile=tls_certificate_private_key_path)
    assert exit_code == 3
    assert lines == [
        "ERROR:    TLS requires `ssl_certfile` (--ssl-certfile): set it, or have ssl_context_factory "
        "build the context without calling the default factory."
    ]


# ---------------------------------------------------------------- mistakes raise for programs, as upstream


def test_factory_returning_no_context_raises_type_error() -> None:
    config = Config(hello, ssl_context_factory=lambda config, default: "not a context")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return an `ssl.SSLContext`, it returned str"):
        config.load()


def test_default_factory_without_certificate_raises_runtime_error() -> None:
    config = Config(hello, ssl_context_factory=lambda config, default: default())
    with pytest.raises(RuntimeError, match="requires `ssl_certfile`"):
        config.load()


def test_key_without_certificate_raises_assertion_error(tls_certificate_private_key_path: str) -> None:
    config = Config(hello, ssl_keyfile=tls_certificate_private_key_path)
    with pytest.raises(AssertionError, match="requires `ssl_certfile`"):
        config.load()


async def test_server_lets_the_error_through(tls_certificate_private_key_path: str) -> None:
    # Server.serve() does not exit on a bad config: the caller gets the exception (as upstream).
    server = Server(Config(hello, port=0, ssl_keyfile=tls_certificate_private_key_path))
    with pytest.raises(RuntimeError, match="requires `ssl_certfile`"):
        await server.serve()
    assert not server.started
