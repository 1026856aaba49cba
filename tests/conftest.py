"""Fixtures shared by every package's tests: TLS material from a throwaway CA (trustme).

Also makes uvicorn's loggers propagate to the root logger, so pytest's
``caplog`` sees their records (the default config stops propagation). Only
this test process's copy of ``LOGGING_CONFIG`` changes; servers started in a
subprocess log as users see it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from uvicorn.logging import LOGGING_CONFIG

LOGGING_CONFIG["loggers"]["uvicorn"]["propagate"] = True
LOGGING_CONFIG["loggers"]["uvicorn.access"]["propagate"] = True

#: The password of ``tls_certificate_private_key_encrypted_path``.
TLS_KEY_PASSWORD = "uvicorn test key password"


@pytest.fixture(scope="session")
def tls_certificate_authority() -> trustme.CA:
    """A CA that exists only for this test session."""
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_certificate(tls_certificate_authority: trustme.CA) -> trustme.LeafCert:
    """A server certificate for localhost, 127.0.0.1 and ::1, signed by the test CA."""
    return tls_certificate_authority.issue_cert("localhost", "127.0.0.1", "::1")


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="session")
def tls_ca_certificate_pem_path(tls_certificate_authority: trustme.CA, tls_dir: Path) -> str:
    """The CA certificate (PEM), e.g. for ``ssl_ca_certs``."""
    path = tls_dir / "ca.pem"
    tls_certificate_authority.cert_pem.write_to_path(path)
    return str(path)


@pytest.fixture(scope="session")
def tls_ca_certificate_private_key_path(tls_certificate_authority: trustme.CA, tls_dir: Path) -> str:
    """The CA's own private key (PEM)."""
    path = tls_dir / "ca.key"
    tls_certificate_authority.private_key_pem.write_to_path(path)
    return str(path)


@pytest.fixture(scope="session")
def tls_certificate_server_cert_path(tls_certificate: trustme.LeafCert, tls_dir: Path) -> str:
    """The server certificate alone (PEM), for ``ssl_certfile``."""
    path = tls_dir / "server.pem"
    tls_certificate.cert_chain_pems[0].write_to_path(path)
    return str(path)


@pytest.fixture(scope="session")
def tls_certificate_private_key_path(tls_certificate: trustme.LeafCert, tls_dir: Path) -> str:
    """The server's private key, unencrypted (PEM), for ``ssl_keyfile``."""
    path = tls_dir / "server.key"
    tls_certificate.private_key_pem.write_to_path(path)
    return str(path)


@pytest.fixture(scope="session")
def tls_certificate_private_key_encrypted_path(tls_certificate: trustme.LeafCert, tls_dir: Path) -> str:
    """The server's private key encrypted with :data:`TLS_KEY_PASSWORD` (PEM)."""
    key = serialization.load_pem_private_key(tls_certificate.private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(TLS_KEY_PASSWORD.encode()),
    )
    path = tls_dir / "server-encrypted.key"
    path.write_bytes(encrypted)
    return str(path)


@pytest.fixture(scope="session")
def tls_certificate_key_and_chain_path(tls_certificate: trustme.LeafCert, tls_dir: Path) -> str:
    """Key and certificate chain in one PEM file (``ssl_certfile`` alone)."""
    path = tls_dir / "server-key-and-chain.pem"
    tls_certificate.private_key_and_cert_chain_pem.write_to_path(path)
    return str(path)


@pytest.fixture(scope="session")
def tls_ca_ssl_context(tls_certificate_authority: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA (e.g. ``httpx.AsyncClient(verify=...)``)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_certificate_authority.configure_trust(context)
    return context
