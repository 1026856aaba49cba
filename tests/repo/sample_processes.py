"""Run the servers of documentation samples as child processes, request them, and stop them.

A child runs in its own session so that stopping it reaches every process it
started (supervisor and workers), and whatever happens it is killed when the
``running`` block ends. Servers listen on port 0 wherever a sample names a
port: the kernel picks one and the server's startup line says which.
"""

from __future__ import annotations

import contextlib
import re
import signal
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import connect as websocket_connect

from tests.processes import SAFETY_TIMEOUT, VENV_BIN, Output, ServerProcess, child_env, kill_group

__all__ = [
    "SAFETY_TIMEOUT",
    "VENV_BIN",
    "Expectation",
    "Running",
    "check_answer",
    "parse_address",
    "run_to_end",
    "running",
    "sample_env",
]

_LISTENING = re.compile(
    r"Uvicorn running on (?P<uvicorn>.+?) \(Press CTRL\+C|Listening at: (?P<gunicorn>\S+)"
)
_SERVER_STARTED = re.compile(r"Started server process \[\d+\]")
_URL = re.compile(r"(?P<scheme>https?)://(?P<host>\[[^\]]+\]|[^:\s]+):(?P<port>\d+)")
_FD_SOCKET = re.compile(r"socket \('(?P<host>[^']+)', (?P<port>\d+)\)")
_UNIX_SOCKET = re.compile(r"(?:unix socket |unix:)(?P<path>\S+)")


def parse_address(where: str) -> tuple[str, str, int]:
    """(scheme, host, port) from a startup line's address; ("unix", path, 0) for a UNIX socket."""
    if found := _URL.fullmatch(where):
        host = found["host"].strip("[]")
        return found["scheme"], "127.0.0.1" if host in ("0.0.0.0", "::") else host, int(found["port"])
    if found := _FD_SOCKET.fullmatch(where):
        return "http", found["host"], int(found["port"])
    if found := _UNIX_SOCKET.fullmatch(where):
        return "unix", found["path"], 0
    raise AssertionError(f"cannot tell where the server listens from {where!r}")


def sample_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment minus uvicorn's variables, the venv's programs first on PATH, plus ``extra``.

    Unlike other children's, the repository is not importable: a sample sees only its workspace.
    """
    return child_env(extra, repo_importable=False)


@dataclass
class Running:
    """A started child: its process, its output, and where it listens once it says so."""

    process: subprocess.Popen[str]
    output: Output

    def address(self) -> tuple[str, str, int]:
        """(scheme, host, port) from the server's startup line (see :func:`parse_address`)."""
        match = self.output.wait_for(_LISTENING)
        if match["uvicorn"]:
            # A --workers or --reload supervisor logs its address when it binds, before it
            # listens; a server process is only started once the socket listens.
            self.output.wait_for(_SERVER_STARTED)
        return parse_address(match["uvicorn"] or match["gunicorn"])

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send ``sig`` to the child's session and wait for it to exit; its exit code."""
        kill_group(self.process.pid, sig)
        code = self.process.wait(SAFETY_TIMEOUT)
        self.output.wait_until_ended()
        return code


@contextlib.contextmanager
def running(
    argv: list[str], cwd: Path, env: dict[str, str], pass_fds: tuple[int, ...] = ()
) -> Iterator[Running]:
    """Start ``argv`` in ``cwd``; on leaving, kill whatever of it still runs."""
    child = ServerProcess(argv, cwd, env, pass_fds, merge_output=True)
    try:
        yield Running(child.process, child.log)
    finally:
        if child.process.poll() is None:
            child.stop()


def run_to_end(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command that is expected to finish on its own (``--version``, ``openssl``...)."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
        check=False,
    )


@dataclass
class Expectation:
    """What one request to a served sample must get back."""

    kind: str = "http"  # or "websocket"
    path: str = "/"
    post: str = ""  # a body to POST (else the request is a GET)
    status: int = 200
    body: str = ""
    ca_file: str = ""  # the certificate to verify HTTPS with (none: no HTTPS expected)
    client_cert: tuple[str, ...] = ()  # certificate file (and key file) to present to the server
    host_header: str = ""
    response_header: str = ""  # "name:value" the response must carry

    @classmethod
    def from_options(cls, options: dict[str, str], workspace: Path) -> Expectation:
        return cls(
            kind=options.get("request", "http"),
            path=options.get("path", "/"),
            post=options.get("post", ""),
            status=int(options.get("status", "200")),
            body=options.get("expect", ""),
            ca_file=str(workspace / options["verify"]) if "verify" in options else "",
            client_cert=tuple(
                str(workspace / name) for name in filter(None, options.get("cert", "").split(","))
            ),
            host_header=options.get("host", ""),
            response_header=options.get("header", ""),
        )


def check_answer(scheme: str, host: str, port: int, expected: Expectation) -> str:
    """Make the request ``expected`` describes; fail unless the answer matches. The body received.

    ``scheme`` "unix" means ``host`` is the path of a UNIX socket.
    """
    tls = ssl.create_default_context(cafile=expected.ca_file) if expected.ca_file else None
    if tls is not None and expected.client_cert:
        tls.load_cert_chain(*expected.client_cert)
    assert (scheme == "https") == (tls is not None), (
        f"{scheme} answered; the sample says verify={expected.ca_file!r}"
    )
    host_in_url = "localhost" if scheme == "unix" else f"[{host}]" if ":" in host else host
    url_scheme = "http" if scheme == "unix" else scheme
    if expected.kind == "websocket":
        assert scheme != "unix", "WebSocket samples over UNIX sockets are not supported here"
        url = f"{'wss' if tls else 'ws'}://{host_in_url}:{port}{expected.path}"
        with websocket_connect(url, ssl=tls, open_timeout=SAFETY_TIMEOUT) as ws:
            ws.send("hello")
            reply = str(ws.recv(timeout=SAFETY_TIMEOUT))
        assert expected.body in reply, f"WebSocket echo {reply!r} lacks {expected.body!r}"
        return reply
    headers = {"host": expected.host_header} if expected.host_header else {}
    transport = (
        httpx.HTTPTransport(uds=host) if scheme == "unix" else httpx.HTTPTransport(verify=tls or False)
    )
    netloc = host_in_url if scheme == "unix" else f"{host_in_url}:{port}"
    with httpx.Client(transport=transport, timeout=SAFETY_TIMEOUT) as client:
        url = f"{url_scheme}://{netloc}{expected.path}"
        if expected.post:
            response = client.post(url, headers=headers, content=expected.post.encode())
        else:
            response = client.get(url, headers=headers)
    assert response.status_code == expected.status, f"status {response.status_code}: {response.text!r}"
    assert expected.body in response.text, f"body {response.text!r} lacks {expected.body!r}"
    if expected.response_header:
        name, _, value = expected.response_header.partition(":")
        assert response.headers.get(name) == value, f"{name}: {response.headers.get(name)!r}, not {value!r}"
    return response.text
