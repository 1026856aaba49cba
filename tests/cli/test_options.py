"""Every option of ``uvicorn`` reaches ``Config``: from the command line, from ``UVICORN_*`` variables,
from ``WEB_CONCURRENCY`` / ``FORWARDED_ALLOW_IPS``, and through ``--env-file``.

The command runs for real in a child; ``tests/cli/config_probe.py`` makes it
print the resulting ``Config`` instead of serving.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.config_probe import OPTION_NAMES
from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn

PROBE = "import tests.cli.config_probe as probe\nprobe.install()"

# (command-line arguments, Config attribute, expected value) for every option that does not
# change how the server runs (--reload and --workers are below); none is a default value.
SERVER_OPTIONS: list[tuple[list[str], str, Any]] = [
    (["--host", "0.0.0.0"], "host", "0.0.0.0"),
    (["--port", "9123"], "port", 9123),
    (["--uds", "probe.sock"], "uds", "probe.sock"),
    (["--fd", "7"], "fd", 7),
    (["--loop", "asyncio"], "loop", "asyncio"),
    (["--http", "h11"], "http", "h11"),
    (["--http2"], "http2", True),
    (["--http2-engine", "h2"], "http2_engine", "h2"),
    (["--http2-max-concurrent-streams", "5"], "http2_max_concurrent_streams", 5),
    (["--http2-max-resets", "6"], "http2_max_resets", 6),
    (["--http2-max-control-frames", "7"], "http2_max_control_frames", 7),
    (["--http2-header-table-size", "1024"], "http2_header_table_size", 1024),
    (["--ws", "wsproto"], "ws", "wsproto"),
    (["--ws-max-size", "1024"], "ws_max_size", 1024),
    (["--ws-max-queue", "8"], "ws_max_queue", 8),
    (["--ws-ping-interval", "1.5"], "ws_ping_interval", 1.5),
    (["--ws-ping-timeout", "2.5"], "ws_ping_timeout", 2.5),
    (["--ws-per-message-deflate", "false"], "ws_per_message_deflate", False),
    (["--lifespan", "off"], "lifespan", "off"),
    (["--interface", "asgi3"], "interface", "asgi3"),
    (["--env-file", "probe.env"], "env_file", "probe.env"),
    (["--log-config", "logging.json"], "log_config", "logging.json"),
    (["--log-level", "debug"], "log_level", "debug"),
    (["--no-access-log"], "access_log", False),
    (["--use-colors"], "use_colors", True),
    (["--no-proxy-headers"], "proxy_headers", False),
    (["--proxy-forwarded"], "proxy_forwarded", True),
    (["--proxy-x-forwarded-host"], "proxy_x_forwarded_host", True),
    (["--no-server-header"], "server_header", False),
    (["--no-date-header"], "date_header", False),
    (["--forwarded-allow-ips", "10.0.0.1,10.0.0.0/8"], "forwarded_allow_ips", "10.0.0.1,10.0.0.0/8"),
    (["--root-path", "/api"], "root_path", "/api"),
    (["--limit-concurrency", "7"], "limit_concurrency", 7),
    (["--backlog", "11"], "backlog", 11),
    (["--limit-max-requests", "13"], "limit_max_requests", 13),
    (["--limit-max-requests-jitter", "17"], "limit_max_requests_jitter", 17),
    (["--limit-request-line", "4000"], "limit_request_line", 4000),
    (["--limit-request-fields", "50"], "limit_request_fields", 50),
    (["--limit-request-head-size", "9000"], "limit_request_head_size", 9000),
    (["--timeout-keep-alive", "3"], "timeout_keep_alive", 3),
    (["--timeout-request-head", "2.5"], "timeout_request_head", 2.5),
    (["--timeout-graceful-shutdown", "4"], "timeout_graceful_shutdown", 4),
    (["--timeout-worker-healthcheck", "6"], "timeout_worker_healthcheck", 6),
    (["--ssl-keyfile", "key.pem"], "ssl_keyfile", "key.pem"),
    (["--ssl-certfile", "cert.pem"], "ssl_certfile", "cert.pem"),
    (["--ssl-keyfile-password", "secret"], "ssl_keyfile_password", "secret"),
    (["--ssl-version", "2"], "ssl_version", 2),
    (["--ssl-cert-reqs", "2"], "ssl_cert_reqs", 2),
    (["--ssl-ca-certs", "ca.pem"], "ssl_ca_certs", "ca.pem"),
    (["--ssl-ciphers", "ECDHE+AESGCM"], "ssl_ciphers", "ECDHE+AESGCM"),
    (
        [
            "--header",
            "X-One:1",
            "--header",
            "Content-Security-Policy: default-src 'self'; img-src https://x:8",
        ],
        "headers",
        [["X-One", "1"], ["Content-Security-Policy", "default-src 'self'; img-src https://x:8"]],
    ),
    (["--h11-max-incomplete-event-size", "2048"], "h11_max_incomplete_event_size", 2048),
    (["--reset-contextvars"], "reset_contextvars", True),
    (["--factory"], "factory", True),
    (["--reuse-port"], "reuse_port", True),
    (["--limit-max-memory", "300"], "limit_max_memory", 300),
    (["--max-worker-lifetime", "3600"], "max_worker_lifetime", 3600.0),
    (["--max-worker-lifetime-jitter", "60"], "max_worker_lifetime_jitter", 60.0),
    (["--limit-request-body", "1000"], "limit_request_body", 1000),
    (["--timeout-request-body", "7.5"], "timeout_request_body", 7.5),
    (["--limit-keep-alive-requests", "9"], "limit_keep_alive_requests", 9),
    (["--timeout-response-send", "8.5"], "timeout_response_send", 8.5),
    (["--shutdown-delay", "2.5"], "shutdown_delay", 2.5),
    (["--timeout-lifespan-startup", "3.5"], "timeout_lifespan_startup", 3.5),
    (["--timeout-lifespan-shutdown", "4.5"], "timeout_lifespan_shutdown", 4.5),
    (["--access-log-format", '%(h)s "%(r)s" %(s)s %(D)d'], "access_log_format", '%(h)s "%(r)s" %(s)s %(D)d'),
    (["--log-format", "json"], "log_format", "json"),
    (["--admin-port", "9200"], "admin_port", 9200),
    (["--admin-host", "0.0.0.0"], "admin_host", "0.0.0.0"),
]
# --bind replaces --host/--port/--uds/--fd, so it cannot be given with the options above.
BIND_OPTIONS: list[tuple[list[str], str, Any]] = [
    (
        ["--bind", "127.0.0.1:9123", "--bind", "unix:probe.sock"],
        "bind",
        ["127.0.0.1:9123", "unix:probe.sock"],
    ),
]
RELOAD_OPTIONS: list[tuple[list[str], str, Any]] = [
    (["--reload"], "reload", True),
    (["--reload-dir", "src"], "reload_dirs", "<project>/src"),
    (["--reload-include", "*.txt"], "reload_includes", ["*.txt"]),
    (["--reload-exclude", "*.tmp"], "reload_excludes", ["*.tmp"]),
    (["--reload-delay", "0.5"], "reload_delay", 0.5),
    (["--workers", "3"], "workers", 3),
]


@pytest.fixture
def probe_project(project: Path) -> Path:
    (project / "probe.env").write_text("FROM_ENV_FILE=yes\n")
    (project / "logging.json").write_text(json.dumps({"version": 1, "disable_existing_loggers": False}))
    (project / "src").mkdir()
    return project


def probe(launch: Launch, *args: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], Uvicorn]:
    command = launch(*args, how="code", code=PROBE, env=env)
    assert command.wait_exit() == 0, command.log.text
    return json.loads(command.stdout.lines[-1]), command


def test_every_server_option_reaches_config(launch: Launch, probe_project: Path) -> None:
    arguments = [argument for args, _, _ in SERVER_OPTIONS for argument in args]
    config, _ = probe(launch, "pid_app:app", *arguments, "--app-dir", "sub")
    assert config["run_by"] == "Server"
    assert config["app"] == "pid_app:app"
    assert {name: config[name] for _, name, _ in SERVER_OPTIONS} == {
        name: expected for _, name, expected in SERVER_OPTIONS
    }
    assert config["environ"] == {"FROM_ENV_FILE": "yes"}  # --env-file was loaded
    assert config["sys_path_0"] == "sub"  # --app-dir


def test_reload_options_reach_config_and_workers_are_ignored(launch: Launch, probe_project: Path) -> None:
    arguments = [argument for args, _, _ in RELOAD_OPTIONS for argument in args]
    config, command = probe(launch, "pid_app:app", "--port", "0", *arguments)
    assert config["run_by"] == "ChangeReload"
    expected = {name: value for _, name, value in RELOAD_OPTIONS}
    expected["reload_dirs"] = [str(probe_project / "src")]
    assert {name: config[name] for name in expected} == expected
    assert '"workers" flag is ignored when reloading is enabled.' in command.log.text


def test_workers_run_the_multiprocess_supervisor(launch: Launch, probe_project: Path) -> None:
    config, _ = probe(launch, "pid_app:app", "--port", "0", "--workers", "3")
    assert (config["run_by"], config["workers"]) == ("Multiprocess", 3)


def test_the_options_cover_every_config_parameter() -> None:
    covered = {name for _, name, _ in SERVER_OPTIONS + RELOAD_OPTIONS + BIND_OPTIONS}
    assert covered == set(OPTION_NAMES)


def test_help_lists_every_option(launch: Launch) -> None:
    command = launch("--help")
    assert command.wait_exit() == 0
    listed = set(re.findall(r"^  (--[a-z0-9-]+)", command.stdout.text, re.MULTILINE))
    flags = {args[0] for args, _, _ in SERVER_OPTIONS + RELOAD_OPTIONS + BIND_OPTIONS}
    negations = {"--no-access-log": "--access-log", "--no-proxy-headers": "--proxy-headers"}
    negations |= {"--no-server-header": "--server-header", "--no-date-header": "--date-header"}
    expected = {negations.get(flag, flag) for flag in flags} | {"--version", "--app-dir", "--help"}
    assert listed == expected
    assert command.stdout.lines[0] == "Usage: uvicorn [OPTIONS] APP"


# Every option again, through its UVICORN_* variable (flags as true/false).
ENVIRONMENT = {
    "UVICORN_APP": "pid_app:app",
    "UVICORN_HOST": "0.0.0.0",
    "UVICORN_PORT": "9123",
    "UVICORN_UDS": "probe.sock",
    "UVICORN_FD": "7",
    "UVICORN_LOOP": "asyncio",
    "UVICORN_HTTP": "h11",
    "UVICORN_HTTP2": "true",
    "UVICORN_HTTP2_ENGINE": "h2",
    "UVICORN_HTTP2_MAX_CONCURRENT_STREAMS": "5",
    "UVICORN_HTTP2_MAX_RESETS": "6",
    "UVICORN_HTTP2_MAX_CONTROL_FRAMES": "7",
    "UVICORN_HTTP2_HEADER_TABLE_SIZE": "1024",
    "UVICORN_WS": "wsproto",
    "UVICORN_WS_MAX_SIZE": "1024",
    "UVICORN_WS_MAX_QUEUE": "8",
    "UVICORN_WS_PING_INTERVAL": "1.5",
    "UVICORN_WS_PING_TIMEOUT": "2.5",
    "UVICORN_WS_PER_MESSAGE_DEFLATE": "false",
    "UVICORN_LIFESPAN": "off",
    "UVICORN_INTERFACE": "asgi3",
    "UVICORN_ENV_FILE": "probe.env",
    "UVICORN_LOG_CONFIG": "logging.json",
    "UVICORN_LOG_LEVEL": "debug",
    "UVICORN_ACCESS_LOG": "false",
    "UVICORN_USE_COLORS": "true",
    "UVICORN_PROXY_HEADERS": "false",
    "UVICORN_PROXY_FORWARDED": "true",
    "UVICORN_PROXY_X_FORWARDED_HOST": "true",
    "UVICORN_SERVER_HEADER": "false",
    "UVICORN_DATE_HEADER": "false",
    "UVICORN_FORWARDED_ALLOW_IPS": "10.0.0.1,10.0.0.0/8",
    "UVICORN_ROOT_PATH": "/api",
    "UVICORN_LIMIT_CONCURRENCY": "7",
    "UVICORN_BACKLOG": "11",
    "UVICORN_LIMIT_MAX_REQUESTS": "13",
    "UVICORN_LIMIT_MAX_REQUESTS_JITTER": "17",
    "UVICORN_LIMIT_REQUEST_LINE": "4000",
    "UVICORN_LIMIT_REQUEST_FIELDS": "50",
    "UVICORN_LIMIT_REQUEST_HEAD_SIZE": "9000",
    "UVICORN_TIMEOUT_KEEP_ALIVE": "3",
    "UVICORN_TIMEOUT_REQUEST_HEAD": "2.5",
    "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN": "4",
    "UVICORN_TIMEOUT_WORKER_HEALTHCHECK": "6",
    "UVICORN_SSL_KEYFILE": "key.pem",
    "UVICORN_SSL_CERTFILE": "cert.pem",
    "UVICORN_SSL_KEYFILE_PASSWORD": "secret",
    "UVICORN_SSL_VERSION": "2",
    "UVICORN_SSL_CERT_REQS": "2",
    "UVICORN_SSL_CA_CERTS": "ca.pem",
    "UVICORN_SSL_CIPHERS": "ECDHE+AESGCM",
    # Multiple values are separated by whitespace, as click splits them.
    "UVICORN_HEADERS": "X-One:1 Content-Security-Policy:default-src",
    "UVICORN_APP_DIR": "sub",
    "UVICORN_H11_MAX_INCOMPLETE_EVENT_SIZE": "2048",
    "UVICORN_RESET_CONTEXTVARS": "true",
    "UVICORN_FACTORY": "true",
    "UVICORN_REUSE_PORT": "true",
    "UVICORN_LIMIT_MAX_MEMORY": "300",
    "UVICORN_MAX_WORKER_LIFETIME": "3600",
    "UVICORN_MAX_WORKER_LIFETIME_JITTER": "60",
    "UVICORN_LIMIT_REQUEST_BODY": "1000",
    "UVICORN_TIMEOUT_REQUEST_BODY": "7.5",
    "UVICORN_LIMIT_KEEP_ALIVE_REQUESTS": "9",
    "UVICORN_TIMEOUT_RESPONSE_SEND": "8.5",
    "UVICORN_SHUTDOWN_DELAY": "2.5",
    "UVICORN_TIMEOUT_LIFESPAN_STARTUP": "3.5",
    "UVICORN_TIMEOUT_LIFESPAN_SHUTDOWN": "4.5",
    "UVICORN_ACCESS_LOG_FORMAT": '%(h)s "%(r)s" %(s)s %(D)d',
    "UVICORN_LOG_FORMAT": "json",
    "UVICORN_ADMIN_PORT": "9200",
    "UVICORN_ADMIN_HOST": "0.0.0.0",
}


def test_every_server_option_reads_its_environment_variable(launch: Launch, probe_project: Path) -> None:
    config, _ = probe(launch, env=ENVIRONMENT)
    expected = {name: value for _, name, value in SERVER_OPTIONS}
    expected["headers"] = [["X-One", "1"], ["Content-Security-Policy", "default-src"]]
    assert {name: config[name] for name in expected} == expected
    assert config["header_types"] == ["tuple"]  # (name, value) pairs, as upstream 0.55 passes them
    assert config["app"] == "pid_app:app"
    assert config["sys_path_0"] == "sub"


def test_bind_reaches_config_from_the_command_line_and_its_variable(
    launch: Launch, probe_project: Path
) -> None:
    [(arguments, name, expected)] = BIND_OPTIONS
    config, _ = probe(launch, "pid_app:app", *arguments)
    assert config[name] == expected
    # Several addresses in UVICORN_BIND are separated by whitespace, as for every repeatable option.
    config, _ = probe(launch, "pid_app:app", env={"UVICORN_BIND": "127.0.0.1:9123 unix:probe.sock"})
    assert config[name] == expected


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            ["--bind", "localhost"],
            "'localhost' is not an address: use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N.",
        ),
        (["--bind", "::1:80"], "is not an address"),
        (["--bind", "127.0.0.1:0", "--port", "9000"], "--bind cannot be combined with --port"),
        (["--bind", "127.0.0.1:0", "--uds", "x.sock"], "--bind cannot be combined with --uds"),
        (["--limit-max-memory", "0"], "Invalid value for '--limit-max-memory'"),
        (["--max-worker-lifetime", "-1"], "Invalid value for '--max-worker-lifetime'"),
    ],
)
def test_bad_listener_and_recycling_options_are_usage_errors(
    launch: Launch, arguments: list[str], error: str
) -> None:
    command = launch("pid_app:app", *arguments)
    assert command.wait_exit() == 2
    assert error in command.log.text


def test_bind_with_host_from_the_environment_is_a_usage_error(launch: Launch) -> None:
    command = launch("pid_app:app", "--bind", "127.0.0.1:0", env={"UVICORN_HOST": "0.0.0.0"})
    assert command.wait_exit() == 2
    assert "--bind cannot be combined with --host" in command.log.text


def test_reload_options_read_their_environment_variables(launch: Launch, probe_project: Path) -> None:
    (probe_project / "lib").mkdir()
    # Directories are separated like PATH entries (":"), as click does for paths.
    env = {"UVICORN_RELOAD": "true", "UVICORN_RELOAD_DIRS": "src:lib", "UVICORN_RELOAD_DELAY": "0.5"}
    config, _ = probe(launch, "pid_app:app", "--port", "0", env=env)
    assert config["run_by"] == "ChangeReload"
    assert config["reload_dirs"] == [str(probe_project / "lib"), str(probe_project / "src")]
    assert config["reload_delay"] == 0.5


def test_the_command_line_wins_over_the_environment(launch: Launch, probe_project: Path) -> None:
    config, _ = probe(launch, "pid_app:app", "--port", "4321", "--http", "httptools", env=ENVIRONMENT)
    assert (config["app"], config["port"], config["http"]) == ("pid_app:app", 4321, "httptools")


def test_web_concurrency_sets_the_default_number_of_workers(launch: Launch, probe_project: Path) -> None:
    config, _ = probe(launch, "pid_app:app", "--port", "0", env={"WEB_CONCURRENCY": "3"})
    assert (config["run_by"], config["workers"]) == ("Multiprocess", 3)
    config, _ = probe(launch, "pid_app:app", "--port", "0", "--workers", "1", env={"WEB_CONCURRENCY": "3"})
    assert (config["run_by"], config["workers"]) == ("Server", 1)


def test_the_env_file_can_set_web_concurrency_and_forwarded_allow_ips(
    launch: Launch, probe_project: Path
) -> None:
    (probe_project / "probe.env").write_text("WEB_CONCURRENCY=2\nFORWARDED_ALLOW_IPS=192.168.0.1\n")
    config, command = probe(launch, "pid_app:app", "--port", "0", "--env-file", "probe.env")
    assert (config["run_by"], config["workers"]) == ("Multiprocess", 2)
    assert config["forwarded_allow_ips"] == "192.168.0.1"
    assert "Loading environment from 'probe.env'" in command.log.text


def test_forwarded_allow_ips_defaults_to_its_environment_variable(
    launch: Launch, probe_project: Path
) -> None:
    config, _ = probe(launch, "pid_app:app", env={"FORWARDED_ALLOW_IPS": "*"})
    assert config["forwarded_allow_ips"] == "*"
    config, _ = probe(launch, "pid_app:app")
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
