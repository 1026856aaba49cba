"""``--log-format json`` and ``--access-log-format`` on the real command: what reaches stdout and stderr."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn

# What the sample app prints itself (not a log record).
APP_PRINT = "app module imported in process"


def stop(server: Uvicorn) -> None:
    server.send_signal(signal.SIGTERM)
    # A graceful shutdown, then the signal is delivered again: the process ends by SIGTERM.
    assert server.wait_exit() == -signal.SIGTERM, server.log.text


def parsed(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line and not line.startswith(APP_PRINT)]


def test_json_logs_are_one_object_a_line_with_the_access_fields(launch: Launch) -> None:
    server = launch("pid_app:app", "--port", "0", "--log-format", "json")
    response = httpx.get(
        server.url + "/env/UNSET_VARIABLE?x=1",
        headers={"User-Agent": "probe/3", "Referer": "https://r.example/"},
    )
    assert response.status_code == 404
    stop(server)
    assert server.stdout is not None

    errors = parsed(server.log.lines)  # every line of stderr is a JSON object
    assert {entry["logger"] for entry in errors} == {"uvicorn.error"}
    assert all(set(entry) == {"time", "level", "logger", "message"} for entry in errors)
    messages = [entry["message"] for entry in errors]
    assert any(message.startswith("Uvicorn running on http://127.0.0.1:") for message in messages)
    assert "Application startup complete." in messages and "Shutting down" in messages
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]) for entry in errors)

    (access,) = parsed(server.stdout.lines)
    client = access.pop("client")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", client)
    duration = access.pop("duration")
    assert isinstance(duration, float) and duration > 0
    access.pop("time")
    assert access == {
        "level": "INFO",
        "logger": "uvicorn.access",
        "message": f'{client} - "GET /env/UNSET_VARIABLE?x=1 HTTP/1.1" 404',
        "method": "GET",
        "path": "/env/UNSET_VARIABLE",
        "query": "x=1",
        "http_version": "1.1",
        "status": 404,
        "bytes_sent": 0,
        "user_agent": "probe/3",
        "referer": "https://r.example/",
    }


def test_an_access_log_format_is_the_whole_line(launch: Launch) -> None:
    log_format = '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
    server = launch("pid_app:app", "--port", "0", "--access-log-format", log_format)
    httpx.get(server.url + "/?q=1", headers={"User-Agent": "probe/4"})
    stop(server)
    assert server.stdout is not None
    size = len(str(server.pid))  # the body is the process id
    assert server.stdout.lines == [f'127.0.0.1 - - "GET /?q=1 HTTP/1.1" 200 {size} "-" "probe/4"']
    assert server.log.wait_for("Uvicorn running on")  # error lines keep their text format


def test_json_logs_with_an_access_log_format(launch: Launch) -> None:
    server = launch(
        "pid_app:app", "--port", "0", "--log-format", "json", "--access-log-format", "%(m)s %(s)s"
    )
    httpx.get(server.url + "/")
    stop(server)
    assert server.stdout is not None
    (access,) = parsed(server.stdout.lines)
    assert (access["message"], access["status"], access["method"]) == ("GET 200", 200, "GET")


def test_a_log_config_wins_over_the_log_format(launch: Launch, project: Path) -> None:
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "PLAIN %(levelname)s %(message)s"}},
        "handlers": {
            "err": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
        },
        "loggers": {"uvicorn": {"handlers": ["err"], "level": "INFO", "propagate": False}},
    }
    (project / "logging.json").write_text(json.dumps(config))
    server = launch("pid_app:app", "--port", "0", "--log-format", "json", "--log-config", "logging.json")
    server.log.wait_for("PLAIN INFO Uvicorn running on")
    stop(server)


def test_an_unusable_access_log_format_is_one_line_and_exit_code_3(launch: Launch) -> None:
    server = launch("pid_app:app", "--port", "0", "--access-log-format", "%(h)s %(bogus)s")
    assert server.wait_exit() == 3
    errors = [line for line in server.log.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR:    Invalid value for 'access_log_format' (--access-log-format): '%(h)s %(bogus)s'. "
        "unknown atom %(bogus)s. Use h l u t r m U q H s B b f a T M D L p, {header}i, {header}o, "
        "{variable}e."
    ]


def test_an_unknown_log_format_is_a_usage_error(launch: Launch) -> None:
    server = launch("pid_app:app", "--log-format", "xml")
    assert server.wait_exit() == 2
    assert "Invalid value for '--log-format'" in server.log.text
