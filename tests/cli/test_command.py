"""The ``uvicorn`` command and ``python -m uvicorn`` serving for real, and what they say about mistakes."""

from __future__ import annotations

import json
import platform
import re
import signal
import socket
import ssl
from pathlib import Path

import httpx
import pytest

import uvicorn
from tests.cli.conftest import Launch
from tests.cli.processes import Uvicorn

STARTED = "Application startup complete"


def stop(command: Uvicorn) -> str:
    """Ctrl+C, a clean exit, and the log."""
    command.send_signal(signal.SIGINT)
    assert command.wait_exit() == 0
    assert "Traceback" not in command.log.text
    return command.log.text


@pytest.mark.parametrize("how", ["script", "module"])
def test_the_command_serves_the_app(launch: Launch, how: str) -> None:
    command = launch("pid_app:app", "--port", "0", how=how)
    response = httpx.get(command.url)
    assert response.status_code == 200
    assert int(response.text) == command.pid  # one process: the command itself serves
    assert response.headers["server"] == "uvicorn"
    log = stop(command)
    assert "Finished server process" in log
    assert re.search(r'"GET / HTTP/1.1" 200', command.stdout.text)  # the access log goes to stdout


@pytest.mark.parametrize("how", ["script", "module"])
def test_version(launch: Launch, how: str) -> None:
    command = launch("--version", how=how)
    assert command.wait_exit() == 0
    assert command.stdout.lines == [
        f"Running uvicorn {uvicorn.__version__} with {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.system()}"
    ]


def test_headers_root_path_and_server_header(launch: Launch) -> None:
    command = launch(
        "pid_app:app",
        "--port",
        "0",
        "--header",
        "X-Frame-Options:DENY",
        "--header",
        "Link: <https://example.com/a>; rel=preload",
        "--no-server-header",
        "--no-date-header",
    )
    response = httpx.get(command.url + "/headers")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["link"] == "<https://example.com/a>; rel=preload"
    assert "server" not in response.headers
    assert "date" not in response.headers
    stop(command)


def test_environment_variables_and_env_file(launch: Launch, project: Path) -> None:
    (project / "settings.env").write_text("GREETING=hello from the env file\n")
    command = launch(
        env={"UVICORN_APP": "pid_app:app", "UVICORN_PORT": "0", "UVICORN_ENV_FILE": "settings.env"}
    )
    assert httpx.get(command.url + "/env/GREETING").text == "hello from the env file"
    assert "Loading environment from 'settings.env'" in command.log.text
    stop(command)


def test_app_dir_and_factory(launch: Launch, project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = launch(
        "pid_app:create_app", "--factory", "--app-dir", str(project), "--port", "0", cwd=elsewhere
    )
    assert int(httpx.get(command.url).text) == command.pid
    stop(command)


def test_unix_domain_socket(launch: Launch, tmp_path: Path) -> None:
    path = tmp_path / "uvicorn.sock"
    command = launch("pid_app:app", "--uds", str(path))
    command.log.wait_for(rf"Uvicorn running on unix socket {re.escape(str(path))}")
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path))) as client:
        assert int(client.get("http://localhost/").text) == command.pid
    stop(command)
    assert not path.exists()


def test_file_descriptor(launch: Launch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        command = launch("pid_app:app", "--fd", str(listener.fileno()), pass_fds=(listener.fileno(),))
        command.log.wait_for(STARTED)
        command.log.wait_for("Uvicorn running on socket")
        assert int(httpx.get(f"http://127.0.0.1:{port}/").text) == command.pid
        stop(command)


def test_tls(
    launch: Launch,
    tls_certificate_server_cert_path: str,
    tls_certificate_private_key_path: str,
    tls_ca_ssl_context: ssl.SSLContext,
) -> None:
    command = launch(
        "pid_app:app",
        "--port",
        "0",
        "--ssl-certfile",
        tls_certificate_server_cert_path,
        "--ssl-keyfile",
        tls_certificate_private_key_path,
    )
    port = int(command.log.wait_for(r"Uvicorn running on https://127\.0\.0\.1:(\d+)").group(1))
    response = httpx.get(f"https://127.0.0.1:{port}/", verify=tls_ca_ssl_context)
    assert int(response.text) == command.pid
    stop(command)


LOG_FORMATS = {
    "json": json.dumps(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"custom": {"format": "CUSTOM %(levelname)s %(message)s"}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "custom"}},
            "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO"}},
        }
    ),
    "yaml": """
version: 1
disable_existing_loggers: false
formatters: {custom: {format: "CUSTOM %(levelname)s %(message)s"}}
handlers: {stderr: {class: logging.StreamHandler, formatter: custom}}
loggers: {uvicorn: {handlers: [stderr], level: INFO}}
""",
    "ini": """
[loggers]
keys=root,uvicorn
[handlers]
keys=stderr
[formatters]
keys=custom
[logger_root]
handlers=
[logger_uvicorn]
handlers=stderr
level=INFO
qualname=uvicorn
[handler_stderr]
class=StreamHandler
formatter=custom
args=(sys.stderr,)
[formatter_custom]
format=CUSTOM %(levelname)s %(message)s
""",
}


@pytest.mark.parametrize("kind", ["json", "yaml", "ini"])
def test_log_config_files(launch: Launch, project: Path, kind: str) -> None:
    (project / f"logging.{kind}").write_text(LOG_FORMATS[kind])
    command = launch("pid_app:app", "--port", "0", "--log-config", f"logging.{kind}")
    command.log.wait_for(r"^CUSTOM INFO Application startup complete\.$")
    stop(command)


def test_yaml_log_config_without_pyyaml_says_what_to_install(launch: Launch, project: Path) -> None:
    (project / "logging.yaml").write_text(LOG_FORMATS["yaml"])
    command = launch(
        "pid_app:app",
        "--log-config",
        "logging.yaml",
        how="code",
        code="import sys; sys.modules['yaml'] = None",
    )
    assert command.wait_exit() == 3
    [line] = command.log.lines
    assert "logging.yaml" in line and "install PyYAML" in line


# (arguments, exit code, the line that explains it)
MISTAKES = [
    (["pid_app:app", "--port", "abc"], 2, "Error: Invalid value for '--port': 'abc' is not a valid integer."),
    (
        ["pid_app:app", "--port", "70000"],
        2,
        "Error: Invalid value for '--port': 70000 is not in the range 0<=x<=65535.",
    ),
    (
        ["pid_app:app", "--workers", "0"],
        2,
        "Error: Invalid value for '--workers': 0 is not in the range x>=1.",
    ),
    (
        ["pid_app:app", "--http", "fast"],
        2,
        "Error: Invalid value for '--http': 'fast' is not one of 'auto', 'h11', 'httptools', 'zttp', "
        "nor an import string 'module:attribute'.",
    ),
    (
        ["pid_app:app", "--lifespan", "maybe"],
        2,
        "Error: Invalid value for '--lifespan': 'maybe' is not one of",
    ),
    (
        ["pid_app:app", "--header", "NoColon"],
        2,
        "Error: Invalid value for '--header': Expected 'Name:Value' format, got 'NoColon'. "
        "A header name has no spaces; for example 'X-Frame-Options:DENY'.",
    ),
    (
        ["pid_app:app", "--header", ":no-name"],
        2,
        "Error: Invalid value for '--header': Expected 'Name:Value' format, got ':no-name'.",
    ),
    (
        ["pid_app:app", "--header", "Two Words:x"],
        2,
        "Error: Invalid value for '--header': Expected 'Name:Value' format, got 'Two Words:x'.",
    ),
    (
        ["pid_app:app", "--limit-max-requests-jitter", "-1"],
        2,
        "Error: Invalid value for '--limit-max-requests-jitter': -1 is not in the range x>=0.",
    ),
    (
        ["pid_app:app", "--env-file", "missing.env"],
        2,
        "Error: Invalid value for '--env-file': File 'missing.env'",
    ),
    (["pid_app:app", "--reload", "--reload-dir", "nowhere"], 2, "Error: Invalid value for '--reload-dir'"),
    ([], 2, "Error: Missing argument 'APP'."),
    (["pid_app:app", "--no-such-option"], 2, "Error: No such option"),
    (
        ["pid_app"],
        3,
        'ERROR:    Error loading ASGI app. Import string "pid_app" must be in format "<module>:<attribute>".',
    ),
    (
        ["pid_app", "--reload"],
        3,
        'ERROR:    Error loading ASGI app. Import string "pid_app" must be in format "<module>:<attribute>".',
    ),
    (
        ["pid_app:missing"],
        3,
        'ERROR:    Error loading ASGI app. Attribute "missing" not found in module "pid_app".',
    ),
    (["pid_app:app", "--http2-engine", "fast"], 2, "Error: Invalid value for '--http2-engine': 'fast'"),
    (
        ["no_such_package.module:app"],
        3,
        'ERROR:    Error loading ASGI app. Could not import module "no_such_package.module".',
    ),
    (
        ["pid_app:app", "--ssl-keyfile", "pid_app.py"],
        3,
        "ERROR:    TLS requires `ssl_certfile` (--ssl-certfile)",
    ),
    (
        ["pid_app:app", "--log-level", "loud"],
        2,
        "Error: Invalid value for '--log-level': 'loud' is not one of",
    ),
]


@pytest.mark.parametrize(("arguments", "code", "explanation"), MISTAKES)
def test_mistakes_get_one_clear_line_and_exit_code(
    launch: Launch, arguments: list[str], code: int, explanation: str
) -> None:
    command = launch(*arguments)
    assert command.wait_exit() == code
    assert command.log.lines[-1].startswith(explanation), command.log.text
    assert "Traceback" not in command.log.text
    if code == 2:
        assert command.log.lines[0] == "Usage: uvicorn [OPTIONS] APP"
    else:
        assert [line for line in command.log.lines if line.startswith("ERROR")] == [command.log.lines[-1]]


LOG_CONFIGS = {
    # Applying fails before any handler exists: the line still has its ERROR: prefix.
    "handler.json": (
        {"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}},
        "ERROR:    Invalid value for 'log_config' (--log-config): 'handler.json': Unable to configure "
        "handler 'h'",
    ),
    "broken.json": ("{not json", "ERROR:    Invalid value for 'log_config' (--log-config): 'broken.json': "),
    "broken.ini": ("[loggers]\n", "ERROR:    Invalid value for 'log_config' (--log-config): 'broken.ini': "),
}


@pytest.mark.parametrize("name", sorted(LOG_CONFIGS))
def test_bad_log_config_is_one_error_line(launch: Launch, project: Path, name: str) -> None:
    content, expected = LOG_CONFIGS[name]
    (project / name).write_text(content if isinstance(content, str) else json.dumps(content))
    command = launch("pid_app:app", "--port", "0", "--log-config", name)
    assert command.wait_exit() == 3
    assert command.log.lines == [command.log.lines[-1]], command.log.text
    assert command.log.lines[-1].startswith(expected), command.log.text


def test_yaml_log_config_without_pyyaml(launch: Launch, project: Path) -> None:
    (project / "logging.yaml").write_text("version: 1\n")
    command = launch(
        "pid_app:app",
        "--log-config",
        "logging.yaml",
        how="code",
        code="import sys; sys.modules['yaml'] = None",
    )
    assert command.wait_exit() == 3
    assert command.log.lines == [
        "ERROR:    Invalid value for 'log_config' (--log-config): 'logging.yaml' is a YAML file. Install the "
        "PyYAML package or uvicorn[standard] to read it (pip install PyYAML), or use a .json or .ini config."
    ]


def test_startup_error_in_worker_processes(launch: Launch) -> None:
    # Each worker finds the mistake when it loads the config: one line each, no traceback, exit 3.
    command = launch("pid_app:app", "--port", "0", "--workers", "2", "--ssl-keyfile", "pid_app.py")
    assert command.wait_exit() == 3
    assert "Traceback" not in command.log.text
    errors = [line for line in command.log.lines if line.startswith("ERROR")]
    tls = [
        line for line in errors if line.startswith("ERROR:    TLS requires `ssl_certfile` (--ssl-certfile)")
    ]
    supervisor = [
        line
        for line in errors
        if re.fullmatch(
            r"ERROR:    Child process \[\d+\] failed to start, "
            r"stopping the parent process\.",
            line,
        )
    ]
    assert 1 <= len(tls) <= 2, command.log.text
    assert len(supervisor) == 1, command.log.text
    assert len(errors) == len(tls) + len(supervisor), command.log.text
