"""gunicorn's settings become ``Config`` options: workers built in-process from a real gunicorn config.

The arbiter builds its workers exactly like this, before forking; nothing is
served here (the other test modules run real arbiters).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gunicorn.config import Config as GunicornConfig
from gunicorn.glogging import Logger as GunicornLogger

from tests.worker.apps import MisspelledOptionWorker, NoServerHeaderWorker, app
from uvicorn.config import Config
from uvicorn_worker import UvicornH11Worker, UvicornWorker

MakeWorker = Callable[..., UvicornWorker]
_LOGGERS = ("uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")


@pytest.fixture
def make_worker() -> Iterator[MakeWorker]:
    """Build a worker as the arbiter does, from gunicorn settings given as keywords."""
    saved = {
        name: (list(logger.handlers), logger.level, logger.propagate)
        for name in _LOGGERS
        for logger in [logging.getLogger(name)]
    }
    workers: list[UvicornWorker] = []

    def make(
        worker_class: type[UvicornWorker] = UvicornWorker, timeout: float = 15.0, **settings: Any
    ) -> Any:
        cfg = GunicornConfig()
        for name, value in settings.items():
            cfg.set(name, value)
        worker = worker_class(1, os.getppid(), [], None, timeout, cfg, GunicornLogger(cfg))
        workers.append(worker)
        return worker

    yield make

    for worker in workers:
        worker.tmp.close()
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers and name.startswith("gunicorn"):
                handler.close()
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def test_gunicorn_settings_become_config_options(make_worker: MakeWorker) -> None:
    worker = make_worker(
        timeout=15.0,
        keepalive=7,
        max_requests=50,
        forwarded_allow_ips="10.0.0.1,10.0.0.2",
        backlog=64,
    )
    config = worker.config
    assert isinstance(config, Config)
    assert config.timeout_keep_alive == 7
    assert config.limit_max_requests == 50  # jitter defaults to 0
    assert config.forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"]
    assert config.backlog == 64
    assert config.timeout_notify == 15
    assert config.callback_notify == worker.callback_notify
    assert config.log_config is None
    assert (config.loop, config.http) == ("auto", "auto")
    assert not config.is_ssl


def test_max_requests_jitter_is_drawn_by_gunicorn_once_per_worker(make_worker: MakeWorker) -> None:
    worker = make_worker(max_requests=100, max_requests_jitter=20)
    assert worker.config.limit_max_requests == worker.max_requests
    assert 100 <= worker.max_requests <= 120
    assert worker.config.limit_max_requests_jitter == 0  # not drawn a second time by the server


def test_no_request_limit_when_gunicorn_has_none(make_worker: MakeWorker) -> None:
    assert make_worker(max_requests=0).config.limit_max_requests is None


@pytest.mark.parametrize(("timeout", "notify_every"), [(15.0, 15), (1.5, 1), (0.5, 1), (0, 1)])
def test_heartbeat_period_is_the_worker_timeout(
    make_worker: MakeWorker, timeout: float, notify_every: int
) -> None:
    # gunicorn gives a worker half of --timeout (0 when the timeout is disabled); the
    # server needs a period of at least a second.
    assert make_worker(timeout=timeout).config.timeout_notify == notify_every


def test_callback_notify_is_the_gunicorn_heartbeat(make_worker: MakeWorker) -> None:
    worker = make_worker()
    before = worker.tmp.last_update()
    notify = worker.config.callback_notify
    assert notify is not None

    async def heartbeat() -> None:
        await notify()

    asyncio.run(heartbeat())
    assert worker.tmp.last_update() != before


def test_request_limits_set_in_gunicorn_apply(make_worker: MakeWorker) -> None:
    defaults = Config(app=app)
    left_alone = make_worker().config
    assert left_alone.limit_request_line == defaults.limit_request_line
    assert left_alone.limit_request_fields == defaults.limit_request_fields

    chosen = make_worker(limit_request_line=2048, limit_request_fields=20).config
    assert (chosen.limit_request_line, chosen.limit_request_fields) == (2048, 20)

    unlimited = make_worker(limit_request_line=0).config  # gunicorn's "unlimited"
    assert unlimited.limit_request_line == defaults.limit_request_line


def test_tls_settings(
    make_worker: MakeWorker,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_certificate_pem_path: str,
) -> None:
    worker = make_worker(
        certfile=tls_certificate_server_cert_path,
        keyfile=tls_certificate_private_key_path,
        ca_certs=tls_ca_certificate_pem_path,
        cert_reqs=int(ssl.CERT_OPTIONAL),
        ciphers="ECDHE+AESGCM",
    )
    config = worker.config
    assert config.ssl_certfile == tls_certificate_server_cert_path
    assert config.ssl_keyfile == tls_certificate_private_key_path
    assert config.ssl_ca_certs == tls_ca_certificate_pem_path
    assert config.ssl_cert_reqs == ssl.CERT_OPTIONAL
    assert config.ssl_ciphers == "ECDHE+AESGCM"
    # gunicorn ignores its deprecated --ssl-version; uvicorn keeps a server-side context.
    assert config.ssl_version == ssl.PROTOCOL_TLS_SERVER

    config.app = app
    config.load()
    assert config.ssl is not None
    assert config.ssl.verify_mode == ssl.CERT_OPTIONAL


def test_gunicorn_ssl_context_hook_builds_the_context(
    make_worker: MakeWorker, tls_certificate_server_cert_path: str, tls_certificate_private_key_path: str
) -> None:
    calls: list[Any] = []

    def ssl_context(conf: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        calls.append(conf)
        context = default_ssl_context_factory()
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        return context

    worker = make_worker(
        certfile=tls_certificate_server_cert_path,
        keyfile=tls_certificate_private_key_path,
        ssl_context=ssl_context,
    )
    worker.config.app = app
    worker.config.load()
    assert calls == [worker.cfg]  # the hook sees gunicorn's config, as gunicorn documents
    assert worker.config.ssl is not None
    assert worker.config.ssl.minimum_version == ssl.TLSVersion.TLSv1_3


def test_config_kwargs_choose_loop_and_http(make_worker: MakeWorker) -> None:
    h11 = make_worker(UvicornH11Worker, keepalive=9).config
    assert (h11.loop, h11.http) == ("asyncio", "h11")
    assert h11.timeout_keep_alive == 9  # gunicorn's settings still apply

    subclass = make_worker(NoServerHeaderWorker).config
    assert (subclass.loop, subclass.http, subclass.server_header) == ("asyncio", "h11", False)


def test_uvicorn_logs_go_to_gunicorn_handlers(make_worker: MakeWorker, tmp_path: Path) -> None:
    access_path = tmp_path / "access.log"
    worker = make_worker(loglevel="debug", accesslog=str(access_path))

    error_logger = logging.getLogger("uvicorn.error")
    assert error_logger.handlers == logging.getLogger("gunicorn.error").handlers != []
    assert error_logger.level == logging.DEBUG
    assert not error_logger.propagate
    access_logger = logging.getLogger("uvicorn.access")
    assert access_logger.handlers == logging.getLogger("gunicorn.access").handlers != []
    assert not access_logger.propagate
    assert worker.config.access_log is True

    access_logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/", "1.1", 200)
    for handler in access_logger.handlers:
        handler.flush()
    assert '127.0.0.1:5000 - "GET / HTTP/1.1" 200' in access_path.read_text()


def test_access_log_is_off_when_gunicorn_has_no_access_log(make_worker: MakeWorker) -> None:
    # Nothing would be written anyway: the protocols skip formatting a line per request.
    assert make_worker().config.access_log is False


def test_check_config_refuses_unknown_config_kwargs(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.worker.check_config")
    UvicornWorker.check_config(GunicornConfig(), log)  # fine: nothing logged, no exit
    assert caplog.records == []

    with pytest.raises(SystemExit) as exit_info:
        MisspelledOptionWorker.check_config(GunicornConfig(), log)
    assert exit_info.value.code == 3
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "'htp' is not a uvicorn Config option" in record.getMessage()


def test_access_logformat_is_passed_on_only_when_given(make_worker: MakeWorker) -> None:
    # gunicorn's default format leaves uvicorn's own line, as upstream's worker writes it.
    assert make_worker().config.access_log_format is None
    given = '%(h)s "%(r)s" %(s)s %(L)s'
    assert make_worker(access_log_format=given).config.access_log_format == given
