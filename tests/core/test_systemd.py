"""The sd_notify client on its own: what it sends, and that a missing listener never breaks the server."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from uvicorn._systemd import SystemdNotifier


def test_a_notification_is_one_datagram_of_assignments(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(path)
        notifier = SystemdNotifier(path)
        notifier.ready("Serving\nnow")  # a newline would start a new assignment: it becomes a space
        assert systemd.recv(4096) == b"READY=1\nSTATUS=Serving now"
        notifier.close()


def test_without_notify_socket_nothing_happens() -> None:
    notifier = SystemdNotifier(None, watchdog_usec=1_000_000)
    assert not notifier.enabled
    assert notifier.watchdog_interval is None
    notifier.ready("Serving")  # no socket, no error


def test_watchdog_interval_is_half_of_watchdog_usec(tmp_path: Path) -> None:
    assert SystemdNotifier(str(tmp_path / "n.sock"), watchdog_usec=30_000_000).watchdog_interval == 15.0


def test_watchdog_pid_of_another_process_disables_the_watchdog(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "n.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert SystemdNotifier.from_environment().watchdog_interval is None


def test_an_unreachable_socket_is_one_warning_never_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SystemdNotifier(str(tmp_path / "nobody-listens.sock"))
    notifier.ready("Serving")
    notifier.status("still")
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Could not notify systemd" in warnings[0].getMessage()


def test_a_notify_socket_that_is_no_unix_path_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    notifier = SystemdNotifier("vsock:2:1234")
    assert not notifier.enabled
    assert "is not a UNIX socket path" in caplog.text
