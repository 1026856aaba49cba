"""A real gunicorn arbiter with each worker class serves real clients: TCP, TLS, mutual TLS, UNIX."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from tests.worker.arbiter import run_gunicorn

APP = "tests.worker.apps:app"
ACCESS_LINE = r'127\.0\.0\.1:\d+ - "GET /hello HTTP/1\.1" 200'


@pytest.fixture(params=[False, True], ids=["TLS off", "TLS on"])
def use_tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_serves_requests_with_each_worker_class(
    worker_class: str,
    use_tls: bool,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_ssl_context: ssl.SSLContext,
) -> None:
    options = ["-k", worker_class, "--access-logfile", "-"]
    if use_tls:
        options += ["--certfile", tls_certificate_server_cert_path]
        options += ["--keyfile", tls_certificate_private_key_path]
    with run_gunicorn(APP, *options) as arbiter:
        [worker_pid] = arbiter.worker_pids()
        verify: ssl.SSLContext | bool = tls_ca_ssl_context if use_tls else False
        with httpx.Client(base_url=arbiter.url, verify=verify) as client:
            # gunicorn trusts proxy headers from 127.0.0.1 by default (--forwarded-allow-ips).
            first = client.get("/hello", headers={"X-Forwarded-For": "203.0.113.7"})
            second = client.get("/hello")  # over the same keep-alive connection

        assert first.status_code == second.status_code == 200
        assert first.headers["server"] == "uvicorn"
        assert first.json() == {
            "pid": worker_pid,
            "scheme": "https" if use_tls else "http",
            "client": ["203.0.113.7", 0],
            "http_version": "1.1",
        }
        assert second.json()["client"][0] == "127.0.0.1"
        # Access lines go through gunicorn's --access-logfile.
        arbiter.wait_for(ACCESS_LINE)


def test_untrusted_proxy_headers_are_ignored(worker_class: str) -> None:
    with run_gunicorn(APP, "-k", worker_class, "--forwarded-allow-ips", "10.0.0.1") as arbiter:
        response = httpx.get(arbiter.url + "/", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.json()["client"][0] == "127.0.0.1"


def test_client_certificates_follow_gunicorn_cert_reqs(
    tls_certificate_authority: trustme.CA,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
    tls_ca_ssl_context: ssl.SSLContext,
    tmp_path: Path,
) -> None:
    client_certificate = tls_certificate_authority.issue_cert("client@example.com")
    client_pem = tmp_path / "client.pem"
    client_certificate.private_key_and_cert_chain_pem.write_to_path(client_pem)
    with_certificate = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_certificate_authority.configure_trust(with_certificate)
    with_certificate.load_cert_chain(client_pem)

    options = [
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--certfile",
        tls_certificate_server_cert_path,
        "--keyfile",
        tls_certificate_private_key_path,
        "--ca-certs",
        tls_ca_certificate_pem_path,
        "--cert-reqs",
        str(int(ssl.CERT_REQUIRED)),
    ]
    with run_gunicorn(APP, *options) as arbiter:
        assert httpx.get(arbiter.url + "/", verify=with_certificate).status_code == 200
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(arbiter.url + "/", verify=tls_ca_ssl_context)


def test_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "gunicorn.sock"
    with run_gunicorn(APP, "-k", "uvicorn_worker.UvicornWorker", bind=f"unix:{path}") as arbiter:
        assert arbiter.address == f"unix:{path}"
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, base_url="http://localhost") as client:
            response = client.get("/")
    assert response.status_code == 200
    assert response.json()["pid"] == arbiter.worker_pids()[0]


def test_wsgi_application() -> None:
    with run_gunicorn("tests.worker.apps:wsgi_app", "-k", "tests.worker.apps.WsgiWorker") as arbiter:
        response = httpx.get(arbiter.url + "/path")
    assert response.text == "wsgi GET /path"


def test_config_kwargs_of_a_subclass_apply() -> None:
    with run_gunicorn(APP, "-k", "tests.worker.apps.NoServerHeaderWorker") as arbiter:
        response = httpx.get(arbiter.url + "/")
    assert response.status_code == 200
    assert "server" not in response.headers


def test_deprecated_import_path_still_serves() -> None:
    with run_gunicorn(APP, "-k", "uvicorn.workers.UvicornWorker") as arbiter:
        assert httpx.get(arbiter.url + "/").status_code == 200
        assert "Using worker: uvicorn.workers.UvicornWorker" in arbiter.output


def test_gunicorn_access_logformat_shapes_the_access_lines() -> None:
    """gunicorn's --access-logformat: gunicorn's atoms, written through gunicorn's access log."""
    log_format = '%(h)s %(l)s "%(r)s" %(s)s %(b)s "%(a)s" %({x-request-id}i)s %(p)s %(D)s'
    options = [
        "-k",
        "uvicorn_worker.UvicornWorker",
        "--access-logfile",
        "-",
        "--access-logformat",
        log_format,
    ]
    with run_gunicorn(APP, *options) as arbiter:
        [worker_pid] = arbiter.worker_pids()
        response = httpx.get(
            arbiter.url + "/hello?x=1", headers={"User-Agent": "probe/1", "X-Request-Id": "r-7"}
        )
        assert response.status_code == 200
        line = arbiter.wait_for(r'^127\.0\.0\.1 - "GET /hello\?x=1 HTTP/1\.1" 200 .*$').group(0)
    size, agent, request_id, pid, microseconds = line.split(" 200 ", 1)[1].split(" ")
    assert (int(size), agent, request_id, pid) == (
        len(response.content),
        '"probe/1"',
        "r-7",
        f"<{worker_pid}>",
    )
    assert int(microseconds) > 0
