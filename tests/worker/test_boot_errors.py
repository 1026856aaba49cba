"""A worker that cannot boot stops the arbiter, with the reason in the log, instead of looping."""

from __future__ import annotations

from pathlib import Path

import pytest
from gunicorn.arbiter import Arbiter

from tests.worker.arbiter import start_gunicorn


def test_lifespan_startup_failure_stops_the_arbiter(worker_class: str) -> None:
    arbiter = start_gunicorn("tests.worker.apps:lifespan_startup_fails", "-k", worker_class)
    try:
        assert arbiter.wait_for_exit() == Arbiter.WORKER_BOOT_ERROR
    finally:
        arbiter.stop()
    arbiter.wait_for(r"\[ERROR\] the database is unreachable")
    arbiter.wait_for(r"\[ERROR\] Application startup failed\. Exiting\.")
    arbiter.wait_for(r"Reason: Worker failed to boot\.")
    assert len(arbiter.worker_pids()) == 1  # not respawned


@pytest.mark.parametrize(
    ("app", "exit_code", "reason"),
    [
        ("tests.worker.raises_on_import:app", Arbiter.WORKER_BOOT_ERROR, "this module is broken on purpose"),
        ("tests.worker.apps:no_such_app", Arbiter.APP_LOAD_ERROR, "no_such_app"),
    ],
    ids=["module raises", "no such attribute"],
)
def test_app_import_failure_stops_the_arbiter(app: str, exit_code: int, reason: str) -> None:
    arbiter = start_gunicorn(app, "-k", "uvicorn_worker.UvicornWorker")
    try:
        assert arbiter.wait_for_exit() == exit_code
    finally:
        arbiter.stop()
    arbiter.wait_for(reason)
    assert len(arbiter.worker_pids()) == 1


def test_tls_setup_failure_stops_the_arbiter(tmp_path: Path) -> None:
    not_a_certificate = tmp_path / "cert.pem"
    not_a_certificate.write_text("this is not PEM\n")
    arbiter = start_gunicorn(
        "tests.worker.apps:app", "-k", "uvicorn_worker.UvicornWorker", "--certfile", str(not_a_certificate)
    )
    try:
        assert arbiter.wait_for_exit() == Arbiter.WORKER_BOOT_ERROR
    finally:
        arbiter.stop()
    # One line naming the option and the file, no traceback.
    arbiter.wait_for(rf"\[ERROR\] Invalid value for 'ssl_certfile'.*{not_a_certificate.name}")
    assert "Traceback" not in arbiter.output


def test_an_invalid_config_kwargs_value_stops_the_arbiter() -> None:
    arbiter = start_gunicorn("tests.worker.apps:app", "-k", "tests.worker.apps.BadHttpWorker")
    try:
        assert arbiter.wait_for_exit() == Arbiter.WORKER_BOOT_ERROR
    finally:
        arbiter.stop()
    arbiter.wait_for(r"\[ERROR\] Invalid value for 'http' \(--http\): 'http3'")
    assert "Traceback" not in arbiter.output


def test_an_unknown_config_kwargs_option_is_refused_before_any_worker_starts() -> None:
    arbiter = start_gunicorn("tests.worker.apps:app", "-k", "tests.worker.apps.MisspelledOptionWorker")
    try:
        assert arbiter.wait_for_exit() == Arbiter.WORKER_BOOT_ERROR
    finally:
        arbiter.stop()
    arbiter.wait_for(
        r"\[ERROR\] Invalid CONFIG_KWARGS on tests\.worker\.apps\.MisspelledOptionWorker: "
        r"'htp' is not a uvicorn Config option\."
    )
    assert arbiter.worker_pids() == []
    assert "Traceback" not in arbiter.output
