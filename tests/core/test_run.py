"""uvicorn.run and Server.run in a child process: startup, signals, exit codes, what the user sees."""

from __future__ import annotations

import signal
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import ServerProcess, error_lines, run_python
from uvicorn.config import Config

STREAMING_APP = textwrap.dedent(
    """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"start", "more_body": True})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.body", "body": b"end:" + body})
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a package ``pkg`` holding ``pkg/mod.py`` (the hello app) and ``pkg/streaming.py``."""
    package = tmp_path / "project" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").touch()
    (package / "mod.py").write_text(
        textwrap.dedent(
            """
            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"hello from pkg.mod"})
            """
        )
    )
    (package / "streaming.py").write_text(STREAMING_APP)
    return tmp_path / "project"


@pytest.fixture
def server_process() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.stop()


def start(started: list[ServerProcess], code: str, cwd: Path | None = None) -> ServerProcess:
    """Python ``code`` (dedented) running a server in a child process."""
    process = ServerProcess([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd)
    started.append(process)
    return process


def finish(process: ServerProcess) -> tuple[int, str]:
    """Wait for the exit: the exit code and everything the server logged (stderr)."""
    return process.wait_exit(), process.log.text


def test_run_import_string_with_app_dir(
    project: Path, tmp_path: Path, server_process: list[ServerProcess]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process = start(
        server_process,
        f"import uvicorn; uvicorn.run('pkg.mod:app', port=0, app_dir={str(project)!r})",
        cwd=elsewhere,
    )
    port = process.port
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello from pkg.mod"
    process.send_signal(signal.SIGINT)
    code, stderr = finish(process)
    assert code == 0  # Ctrl+C is a normal way to stop
    assert "Shutting down" in stderr
    assert "Finished server process" in stderr
    assert "Traceback" not in stderr


def test_server_run_with_prebound_socket(project: Path, server_process: list[ServerProcess]) -> None:
    process = start(
        server_process,
        """
        import socket
        from uvicorn import Config, Server
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1], flush=True)
        Server(Config("pkg.mod:app", loop="asyncio")).run(sockets=[sock])
        """,
        cwd=project,
    )
    assert process.stdout is not None
    port = int(process.stdout.wait_for(r"^\d+$").group())
    process.log.wait_for("Application startup complete")
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello from pkg.mod"
    process.send_signal(signal.SIGTERM)
    code, stderr = finish(process)
    # As upstream: after the graceful shutdown SIGTERM is delivered again, with its default action.
    assert code == -signal.SIGTERM
    assert "Shutting down" in stderr
    assert "Finished server process" in stderr


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_sigint_finishes_the_request_in_flight(
    project: Path, http: str, server_process: list[ServerProcess]
) -> None:
    process = start(
        server_process,
        f"import uvicorn; uvicorn.run('pkg.streaming:app', port=0, http={http!r})",
        cwd=project,
    )
    port = process.port
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\n")
        head = read_until(client, b"start")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")

        process.send_signal(signal.SIGINT)
        process.log.wait_for("Waiting for connections to close")
        client.sendall(b"abc")  # the request can still complete
        rest = read_until(client, b"0\r\n\r\n")
        assert b"end:abc" in rest
        assert client.recv(1) == b""  # then the server closes the connection
    code, stderr = finish(process)
    assert code == 0
    assert "Finished server process" in stderr


def test_second_sigint_forces_exit(project: Path, server_process: list[ServerProcess]) -> None:
    process = start(server_process, "import uvicorn; uvicorn.run('pkg.streaming:app', port=0)", cwd=project)
    port = process.port
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\n")
        read_until(client, b"start")
        process.send_signal(signal.SIGINT)
        process.log.wait_for(r"Waiting for connections to close\. \(CTRL\+C to force quit\)")
        process.send_signal(signal.SIGINT)  # the body never comes: force it
        code, stderr = finish(process)
    assert code == 0
    assert "Finished server process" in stderr
    assert "Waiting for application shutdown" not in stderr  # a forced exit skips the lifespan shutdown


def test_sigterm_when_idle(project: Path, server_process: list[ServerProcess]) -> None:
    process = start(server_process, "import uvicorn; uvicorn.run('pkg.mod:app', port=0)", cwd=project)
    process.log.wait_for("Uvicorn running on")
    process.send_signal(signal.SIGTERM)
    code, stderr = finish(process)
    assert code == -signal.SIGTERM
    assert "Shutting down" in stderr
    assert "Finished server process" in stderr


def test_unix_socket_file_is_removed_on_exit(
    project: Path, tmp_path: Path, server_process: list[ServerProcess]
) -> None:
    path = tmp_path / "app.sock"
    process = start(
        server_process, f"import uvicorn; uvicorn.run('pkg.mod:app', uds={str(path)!r})", cwd=project
    )
    process.log.wait_for("Uvicorn running on unix socket")
    transport = httpx.HTTPTransport(uds=str(path))
    with httpx.Client(transport=transport) as client:
        assert client.get("http://localhost/").text == "hello from pkg.mod"
    process.send_signal(signal.SIGINT)
    code, _ = finish(process)
    assert code == 0
    assert not path.exists()


# ---------------------------------------------------------------- failures: one line, exit 3


def test_bad_import_string() -> None:
    result = run_python("import uvicorn; uvicorn.run('no_such_module_here:app', port=0)")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        'ERROR:    Error loading ASGI app. Could not import module "no_such_module_here".'
    ]


def test_missing_package() -> None:
    result = run_python("import uvicorn; uvicorn.run('no_such_package.module:app', port=0)")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        'ERROR:    Error loading ASGI app. Could not import module "no_such_package.module".'
    ]


def test_missing_package_raises_import_error_for_programs() -> None:
    # As upstream: Config.load() raises (ModuleNotFoundError) rather than exiting.
    config = Config("no_such_package.module:app")
    with pytest.raises(ImportError, match=r'Could not import module "no_such_package\.module"') as info:
        config.load()
    assert isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == "no_such_package"


def test_missing_module_exits_as_upstream(caplog: pytest.LogCaptureFixture) -> None:
    # Upstream logs and exits here, in Config.load() too.
    with pytest.raises(SystemExit) as info:
        Config("no_such_module_here:app").load()
    assert info.value.code == 3
    assert 'Error loading ASGI app. Could not import module "no_such_module_here".' in caplog.messages


def test_missing_attribute() -> None:
    result = run_python("import uvicorn; uvicorn.run('tests.core.apps:nope', port=0)")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        'ERROR:    Error loading ASGI app. Attribute "nope" not found in module "tests.core.apps".'
    ]


@pytest.mark.parametrize("options", ["reload=True", "workers=2"])
def test_reload_or_workers_need_an_import_string(options: str) -> None:
    result = run_python(f"import uvicorn\nfrom tests.core.apps import hello\nuvicorn.run(hello, {options})")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        "WARNING:  You must pass the application as an import string to enable 'reload' or 'workers'."
    ]


@pytest.mark.parametrize("options", ["reload=True", "workers=2"])
def test_reload_or_workers_without_uvicorn_cli(options: str) -> None:
    result = run_python(
        f"""
        import sys
        sys.modules["uvicorn.supervisors"] = None  # as if uvicorn-cli were not installed
        import uvicorn
        uvicorn.run("tests.core.apps:hello", port=0, {options})
        """
    )
    assert result.returncode == 3
    lines = error_lines(result.stderr)
    assert lines[-1] == (
        "ERROR:    'reload' and 'workers' need the uvicorn-cli package: pip install uvicorn-cli (or uvicorn)."
    )
    assert not any(line.startswith("ERROR") for line in lines[:-1])


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_python(f"import uvicorn; uvicorn.run('tests.core.apps:hello', port={port})")
    assert result.returncode == 3
    [error] = [line for line in error_lines(result.stderr) if line.startswith("ERROR")]
    assert "address already in use" in error.lower()
    assert error.endswith("Another process is listening there: stop it or choose another --port.")
    assert "Traceback" not in result.stderr


def test_import_uvicorn_stays_light() -> None:
    result = run_python(
        """
        import sys
        import uvicorn
        print(uvicorn.__version__)
        heavy = ("click", "uvicorn.main", "uvicorn.supervisors", "uvicorn.middleware.wsgi")
        print(sorted(name for name in heavy if name in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    version, loaded = result.stdout.splitlines()
    assert version.count(".") == 2
    assert loaded == "[]"


def test_uvicorn_main_stays_the_cli_function() -> None:
    """Importing the submodule uvicorn.main must leave ``uvicorn.main`` the function, as upstream."""
    result = run_python(
        """
        import types
        import uvicorn

        cli_module = types.ModuleType("uvicorn.main")
        cli_module.main = lambda: "the cli"
        uvicorn.main = cli_module  # what the import system does after importing uvicorn.main
        print(uvicorn.main())
        uvicorn.other = cli_module  # other names are not touched
        print(uvicorn.other is cli_module)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["the cli", "True"]


@pytest.mark.parametrize(
    ("options", "supervisor_line"),
    [("workers=2", r"Started parent process \[\d+\]"), ("reload=True", r"Started reloader process \[\d+\]")],
)
def test_reload_and_workers_run_under_the_cli_supervisors(
    project: Path, options: str, supervisor_line: str, server_process: list[ServerProcess]
) -> None:
    pytest.importorskip("uvicorn.supervisors.multiprocess", reason="needs uvicorn-cli")
    process = start(
        server_process, f"import uvicorn; uvicorn.run('pkg.mod:app', port=0, {options})", cwd=project
    )
    port = process.port
    process.log.wait_for(supervisor_line)
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello from pkg.mod"
    process.send_signal(signal.SIGINT)
    code, stderr = finish(process)
    assert code == 0
    assert "Finished server process" in stderr
    assert "Traceback" not in stderr
