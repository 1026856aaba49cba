"""Configuration files in the documentation: nginx, systemd units, Dockerfiles.

How far each is checked depends on what the machine has:

- **nginx**: with ``nginx`` installed, the sample runs as a real reverse proxy
  (its upstream pointed at a uvicorn server on a free port, its ``listen`` at
  another) and a request and a WebSocket go through it. Without nginx, only
  its block structure is checked.
- **systemd**: ``systemd-analyze verify`` checks the units when it is
  installed (the only change: ``ExecStart`` runs the test's uvicorn). The
  service's ``ExecStart`` is then run: socket-activated the way systemd does
  it (a listening socket as file descriptor 3, ``LISTEN_FDS`` and
  ``LISTEN_PID`` set) when the page showed its ``.socket`` unit before it,
  else as it is, listening where it says; a ``Type=notify`` service gets a
  ``NOTIFY_SOCKET`` and must send ``READY=1``, then ``STOPPING=1``.
- **Dockerfile**: there is no Docker daemon in CI, so the image is never
  built. The instructions are parsed, ``pip install`` requirements are
  checked against our distributions, and the ``CMD`` is served in the
  workspace as the container would run it.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.repo.doc_samples import Sample
from tests.repo.sample_commands import (
    Command,
    check_pip_install,
    listen_on_free_port,
    split_commands,
    substitute_port,
)
from tests.repo.sample_processes import SAFETY_TIMEOUT, Expectation, check_answer, running, sample_env
from tests.repo.sample_workspace import Workspace, resolve, serve_command
from tests.serving import serve_in_thread

# ---------------------------------------------------------------- nginx


async def _report_scope(scope, receive, send):  # type: ignore[no-untyped-def]
    """What the app behind the proxy saw: client, scheme and Host; WebSockets get an echo."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": f"{scope['scheme']} echo {message.get('text')}"})
        await send({"type": "websocket.close"})
        return
    if scope["type"] != "http":
        return
    host = dict(scope["headers"]).get(b"host", b"").decode()
    body = f"client={scope['client'][0]} scheme={scope['scheme']} host={host}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def run_nginx(sample: Sample, workspace: Workspace) -> None:
    _check_nginx_structure(sample.code)
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        return  # structure only: nginx is not installed on this machine
    upstream_port = sample.option("port", "8000")
    with serve_in_thread(_report_scope, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as app_server:
        listen_port = _kernel_picked_port()
        site = re.sub(rf"127\.0\.0\.1:{upstream_port}\b", f"127.0.0.1:{app_server.port}", sample.code)
        assert site != sample.code, f"the sample does not proxy to 127.0.0.1:{upstream_port}"
        site, listens = re.subn(
            r"^(\s*)listen\s+[^;]+;", rf"\1listen 127.0.0.1:{listen_port};", site, flags=re.M
        )
        assert listens == 1, "the sample should have one listen directive"
        config = workspace.write("nginx.conf", _nginx_main_config(workspace.path, site))
        argv = [nginx, "-p", str(workspace.path), "-c", str(config), "-g", "daemon off; master_process off;"]
        with running(argv, workspace.path, sample_env()) as proxy:
            # nginx reports its limits (on stderr, see the main config) once its sockets listen.
            proxy.output.wait_for(re.compile(r"getrlimit"))
            host = sample.option("host", "example.com")
            answer = _through_proxy(listen_port, host)
            assert answer == f"client=203.0.113.7 scheme=http host={host}", f"the app saw {answer!r}"
            check_answer(
                "http", "127.0.0.1", listen_port, Expectation(kind="websocket", body="ws echo hello")
            )
            proxy.stop(signal.SIGQUIT)


def _check_nginx_structure(text: str) -> None:
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#")[0].strip()
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"nginx sample line {number}: '}}' without a block"
        if line and not line.endswith(("{", "}", ";")):
            assert False, f"nginx sample line {number}: a directive must end with ';': {raw!r}"
    assert depth == 0, "nginx sample: unclosed block"


def _nginx_main_config(prefix: Path, site: str) -> str:
    temp = prefix / "nginx-temp"
    temp.mkdir(exist_ok=True)
    return (
        f"pid {prefix}/nginx.pid;\nerror_log stderr notice;\nevents {{}}\nhttp {{\n"
        f"access_log off;\nclient_body_temp_path {temp};\nproxy_temp_path {temp};\n"
        f"fastcgi_temp_path {temp};\nuwsgi_temp_path {temp};\nscgi_temp_path {temp};\n{site}\n}}\n"
    )


def _kernel_picked_port() -> int:
    # nginx cannot be handed a socket: let the kernel pick a free port, then release it for nginx.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _through_proxy(port: int, host: str) -> str:
    import httpx

    response = httpx.get(
        f"http://127.0.0.1:{port}/", headers={"host": host, "x-forwarded-for": "203.0.113.7"}, timeout=30
    )
    assert response.status_code == 200, f"through nginx: {response.status_code} {response.text!r}"
    return response.text


# ---------------------------------------------------------------- systemd


def run_systemd(sample: Sample, workspace: Workspace) -> None:
    unit = sample.option("file")
    assert unit.endswith((".socket", ".service")), "a systemd sample needs file=<name>.socket or .service"
    sections = _read_unit(sample.code)
    workspace.write(unit, sample.code)
    if not unit.endswith(".service"):
        return
    exec_start = split_commands(sections["Service"]["ExecStart"])[0]
    program = Path(exec_start.argv[0])
    assert program.is_absolute(), "ExecStart needs an absolute path"
    runnable = Command([program.name, *exec_start.argv[1:]], text=exec_start.text)
    real_program = resolve(runnable)[0]
    socket_unit = workspace.path / (unit.removesuffix(".service") + ".socket")
    _verify_units(workspace, unit, sample.code.replace(str(program), real_program), socket_unit)
    if socket_unit.exists():  # shown earlier on the page: the service is socket-activated
        listen = _read_unit(socket_unit.read_text())["Socket"]["ListenStream"]
        _socket_activate(runnable, listen, sample, workspace)
    elif sections["Service"].get("Type") in ("notify", "notify-reload"):
        _serve_notifying(runnable, sample, workspace)
    else:  # the service binds its own socket, as systemd would start it
        serve_command(runnable, sample, workspace, stop=signal.SIGTERM)


def _serve_notifying(command: Command, sample: Sample, workspace: Workspace) -> None:
    """Run a ``Type=notify`` service with a ``NOTIFY_SOCKET``, as systemd would: READY=1, then STOPPING=1."""
    path = workspace.path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(SAFETY_TIMEOUT)  # a safety net: each wait ends with a datagram
        if port := sample.option("port"):
            substitute_port(command, port)
        listen_on_free_port(command)
        env = sample_env({**command.env, "NOTIFY_SOCKET": str(path)})
        with running(resolve(command), workspace.path, env) as child:
            scheme, host, port_number = child.address()
            check_answer(scheme, host, port_number, Expectation.from_options(sample.options, workspace.path))
            assert b"READY=1" in _notifications_until(systemd, b"READY=1"), child.output.text
            code = child.stop(signal.SIGTERM)
            assert b"STOPPING=1" in _notifications_until(systemd, b"STOPPING=1")
        workspace.last_output = child.output.lines
    assert code in (0, -signal.SIGTERM), f"{command.text} exited with {code}:\n{child.output.text}"


def _notifications_until(systemd: socket.socket, wanted: bytes) -> list[bytes]:
    said: list[bytes] = []
    while wanted not in said:
        said.extend(systemd.recv(4096).split(b"\n"))
    return said


def _read_unit(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"unit line outside a section or without '=': {raw!r}"
        key, _, value = line.partition("=")
        current[key.strip()] = value.strip()
    return sections


def _verify_units(workspace: Workspace, unit: str, service_text: str, socket_unit: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # parsed above; systemd-analyze is not installed on this machine
    check_dir = workspace.path / "systemd-verify"
    check_dir.mkdir(exist_ok=True)
    units = [f"./{unit}"]
    if socket_unit.exists():
        shutil.copy(socket_unit, check_dir / socket_unit.name)
        units.insert(0, f"./{socket_unit.name}")
    (check_dir / unit).write_text(service_text)
    result = subprocess.run(
        [analyze, "verify", *units],
        cwd=check_dir,
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
        check=False,
    )
    complaints = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not complaints, f"systemd-analyze verify: {complaints}"


_ACTIVATE = (
    "import os, sys\n"
    "os.dup2(int(sys.argv[1]), 3)\n"
    "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _socket_activate(command: Command, listen: str, sample: Sample, workspace: Workspace) -> None:
    """Run ``command`` with a listening socket as fd 3, as systemd does for ``ListenStream``."""
    host, _, _port = listen.rpartition(":")
    assert host, f"ListenStream={listen}: the test activates TCP sockets (host:port)"
    with socket.socket() as listener:
        listener.bind((host, 0))
        listener.listen()
        wrapped = Command(
            ["python", "-c", _ACTIVATE, str(listener.fileno()), *resolve(command)], text=command.text
        )
        serve_command(wrapped, sample, workspace, pass_fds=(listener.fileno(),), stop=signal.SIGTERM)


# ---------------------------------------------------------------- Dockerfile

_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def run_dockerfile(sample: Sample, workspace: Workspace) -> None:
    instructions = _read_dockerfile(sample.code)
    assert instructions and instructions[0][0] in ("FROM", "ARG"), "a Dockerfile starts with FROM"
    cmd: list[str] = []
    for keyword, argument in instructions:
        assert keyword in _INSTRUCTIONS, f"unknown Dockerfile instruction {keyword}"
        if keyword in ("CMD", "ENTRYPOINT"):
            cmd = json.loads(argument)  # exec form, so signals reach the server
            assert isinstance(cmd, list) and all(isinstance(w, str) for w in cmd), f"{keyword} exec form"
        elif keyword == "COPY":
            for source in argument.split()[:-1]:
                if not source.startswith("--") and source != ".":
                    assert (workspace.path / source).exists(), f"COPY {source}: not shown on the page"
        elif keyword == "RUN" and " install " in f" {argument} " and "pip" in argument:
            _check_pip_run(argument, workspace)
    assert cmd, "the Dockerfile needs a CMD in exec form"
    workspace.write("Dockerfile", sample.code)
    serve_command(Command(cmd, text=" ".join(cmd)), sample, workspace)


def _read_dockerfile(text: str) -> list[tuple[str, str]]:
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, argument = (pending + line).partition(" ")
        pending = ""
        instructions.append((keyword.upper(), argument.strip()))
    return instructions


def _check_pip_run(argument: str, workspace: Workspace) -> None:
    for command in split_commands(argument.replace("&&", "\n")):
        if command.program != "pip":
            continue
        words = [w for w in command.arguments if w not in ("--no-cache-dir", "--upgrade", "-U")]
        if "-r" in words:
            requirements = workspace.path / words[words.index("-r") + 1]
            assert requirements.exists(), f"pip install -r {requirements.name}: not shown on the page"
            lines = [ln.split("#")[0].strip() for ln in requirements.read_text().splitlines()]
            words = ["install", *filter(None, lines)]
        check_pip_install(Command(["pip", *words], text=command.text))
