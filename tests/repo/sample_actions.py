"""What is done with each documentation sample, by its marker's action (see ``doc_samples.ACTIONS``).

The samples of one page run in order in one workspace (``sample_workspace``).
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import re
import shlex
import sys
from collections.abc import Callable
from typing import Any

from tests.repo import sample_configs
from tests.repo.doc_samples import REPO_ROOT, Sample
from tests.repo.sample_commands import (
    Command,
    check_pip_install,
    checkout_commands,
    normalise_uv,
    our_distributions,
    split_commands,
)
from tests.repo.sample_members import run_members
from tests.repo.sample_processes import Expectation, check_answer
from tests.repo.sample_workspace import Workspace, finish_command, imported_from, module_name, serve_command
from tests.serving import serve_in_thread
from uvicorn.config import Config

#: Marker options that describe the request, not the Config of an ``app`` sample.
_REQUEST_OPTIONS = {
    "file", "attr", "needs",                                     # where the app comes from
    "request", "path", "post", "host", "verify", "port", "uds",  # the request made to it
    "cert", "status", "expect", "header", "stop", "exit",        # what must come back, how to stop
}  # fmt: skip


def run_sample(sample: Sample, workspace: Workspace) -> None:
    """Do what the sample's action says; an AssertionError names what did not hold."""
    workspace.provide(sample.option("needs"))
    handler = HANDLERS[sample.action]
    try:
        handler(sample, workspace)
    except AssertionError as exc:
        raise AssertionError(f"{sample.where} ({sample.action}): {exc}") from exc


# ---------------------------------------------------------------- Python


def run_app(sample: Sample, workspace: Workspace) -> None:
    relative = sample.option("file", "main.py")
    workspace.write(relative, sample.code)
    options = {key: _literal(value) for key, value in sample.options.items() if key not in _REQUEST_OPTIONS}
    unknown = set(options) - set(inspect.signature(Config).parameters)
    assert not unknown, f"options {sorted(unknown)} are neither Config parameters nor request options"
    with imported_from(workspace.path) as load:
        app = getattr(load(module_name(relative)), sample.option("attr", "app"))
        with serve_in_thread(app, **options) as server:
            check_answer(
                "http", server.host, server.port, Expectation.from_options(sample.options, workspace.path)
            )


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def run_module(sample: Sample, workspace: Workspace) -> None:
    relative = sample.option("file")
    assert relative.endswith(".py"), "a module sample needs file=<path>.py"
    workspace.write(relative, sample.code)
    with imported_from(workspace.path) as load:
        load(module_name(relative))


def run_file(sample: Sample, workspace: Workspace) -> None:
    assert sample.option("file"), "a file sample needs file=<path>"
    workspace.write(sample.option("file"), sample.code)


def run_script(sample: Sample, workspace: Workspace) -> None:
    relative = sample.option("file", f"sample_{sample.line}.py")
    code = sample.code
    if port := sample.option("port"):
        code, count = re.subn(rf"(?<![\d.]){re.escape(port)}(?!\d)", "0", code)
        assert count, f"the script does not mention port {port}"
    workspace.write(relative, code)
    command = Command([sys.executable, relative], text=f"python {relative}")
    if "serves" in sample.flags:
        serve_command(command, sample, workspace)
    else:
        finish_command(command, sample, workspace)


def run_signature(sample: Sample, workspace: Workspace) -> None:
    target = sample.option("of")
    module_path, _, qualname = target.partition(":")
    documented = sample.code.strip()
    name = qualname.split(".")[-1]
    assert documented.startswith(name + "("), f"the signature should start with {name}("
    parsed = ast.parse(f"def {documented}: pass").body[0]
    assert isinstance(parsed, ast.FunctionDef)
    obj: Any = importlib.import_module(module_path)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    actual = inspect.signature(obj)
    shown = [(p.name, p.kind, p.default) for p in _signature_of(parsed).parameters.values()]
    real = [(p.name, p.kind, p.default) for p in actual.parameters.values()]
    assert shown == real, f"documented {shown}, the code has {real}"


def _signature_of(function: ast.FunctionDef) -> inspect.Signature:
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module([function], []), "<signature>", "exec"), namespace)  # our own docs, not input
    return inspect.signature(namespace[function.name])


def run_forwarded(sample: Sample, workspace: Workspace) -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    seen: dict[str, Any] = {}

    async def downstream(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    name, _, value = sample.code.strip().partition(":")
    scope = {
        "type": "http",
        "scheme": "http",
        "client": (sample.option("peer"), 50000),
        "server": ("10.0.0.1", 80),
        "headers": [(b"host", b"10.0.0.1"), (name.strip().lower().encode(), value.strip().encode())],
    }
    app = ProxyHeadersMiddleware(downstream, trusted_hosts=sample.option("trusted"), forwarded=True)
    asyncio.run(app(scope, _no_receive, _no_send))
    client_host, _, client_port = sample.option("client").rpartition(":")
    assert seen["client"] == (client_host, int(client_port)), f"client {seen['client']}"
    assert seen["scheme"] == sample.option("scheme"), f"scheme {seen['scheme']}"
    assert dict(seen["headers"])[b"host"] == sample.option("host").encode(), f"headers {seen['headers']}"


async def _no_receive() -> Any:
    raise AssertionError("the middleware does not read the request")


async def _no_send(message: Any) -> None:
    raise AssertionError("the middleware does not answer itself")


def run_excerpt(sample: Sample, workspace: Workspace) -> None:
    source = (REPO_ROOT / sample.option("path")).read_text()
    squeeze = " ".join
    assert squeeze(sample.code.split()) in squeeze(source.split()), f"not found in {sample.option('path')}"


# ---------------------------------------------------------------- commands


def run_shell(sample: Sample, workspace: Workspace) -> None:
    for command in split_commands(sample.code):
        if command.program == "pip":
            check_pip_install(command)
        elif "serves" in sample.flags:
            serve_command(command, sample, workspace)
        else:
            finish_command(command, sample, workspace)


def run_output(sample: Sample, workspace: Workspace) -> None:
    """Each shown line must appear, in order; numbers match any number and ``...`` anything."""
    lines = iter(workspace.last_output)
    assert workspace.last_output, "no serving sample before this output on the page"
    for shown in filter(None, (line.strip() for line in sample.code.splitlines())):
        pattern = re.compile(_fuzzy(shown))
        assert any(pattern.search(line) for line in lines), (
            f"{shown!r} not printed (in this order) by the previous sample:\n"
            + "\n".join(workspace.last_output)
        )


def _fuzzy(shown: str) -> str:
    parts = re.split(r"(\.\.\.|\d+)", shown)
    return "".join(".*" if p == "..." else r"\d+" if p.isdigit() else re.escape(p) for p in parts)


def run_checkout(sample: Sample, workspace: Workspace) -> None:
    known = checkout_commands()
    for command in split_commands(sample.code):
        text = normalise_uv(" ".join(shlex.quote(word) for word in command.argv))
        assert text in known, f"{command.text!r} is neither in the README's set-up block nor in .ci/run"


def run_install(sample: Sample, workspace: Workspace) -> None:
    # check_dists runs docs/installation.md's blocks for real (it needs the index and a build):
    # here, every block must be one it runs, and other pages must repeat it word for word.
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    try:
        from dists.documented import DOCUMENTED_SCENARIOS, documented_blocks
    finally:
        sys.path.pop(0)
    name = sample.option("scenario")
    run_by = [scenario.slug for scenario in DOCUMENTED_SCENARIOS if name in scenario.blocks]
    assert run_by, f"no scenario of scripts/dists/documented.py runs the block {name!r}"
    commands = [" ".join(command.argv) for command in split_commands(sample.code)]
    expected = [" ".join(command.argv) for command in split_commands("\n".join(documented_blocks()[name]))]
    assert commands == expected, f"differs from docs/installation.md's {name!r} block, which check_dists runs"


def run_parse(sample: Sample, workspace: Workspace) -> None:
    module_path, _, function = sample.option("parser").partition(":")
    # script=scripts/x.py: a script run by path; its folder is where its imports are found.
    script = sample.option("script")
    if script:
        sys.path.insert(0, str((REPO_ROOT / script).parent))
    try:
        parse = getattr(importlib.import_module(module_path), function)
    finally:
        if script:
            sys.path.pop(0)
    for command in split_commands(sample.code):
        arguments = command.arguments
        if script:  # uv run python scripts/x.py ...
            assert script in arguments, f"{command.text}: does not run {script}"
            arguments = arguments[arguments.index(script) + 1 :]
        elif command.program == "uv":  # uv run python -m benchmarks[.hot_path|.soak] ...: what follows
            arguments = arguments[arguments.index("-m") + 2 :]
        try:
            parse(arguments)
        except SystemExit as exc:
            raise AssertionError(f"{command.text}: the program's parser refused it ({exc})") from exc


def run_syntax(sample: Sample, workspace: Workspace) -> None:
    assert sample.option("reason"), "a syntax-only sample must say why it is not run (reason=...)"
    assert split_commands(sample.code), "no command"


def run_text(sample: Sample, workspace: Workspace) -> None:
    ours = set(our_distributions())
    for name in re.findall(r"\buvicorn(?:-[a-z]+)?\b", sample.code):
        assert name in ours, f"{name} is not one of our distributions"


HANDLERS: dict[str, Callable[[Sample, Workspace], None]] = {
    "app": run_app,
    "module": run_module,
    "file": run_file,
    "script": run_script,
    "shell": run_shell,
    "output": run_output,
    "signature": run_signature,
    "excerpt": run_excerpt,
    "members": run_members,
    "forwarded": run_forwarded,
    "checkout": run_checkout,
    "install": run_install,
    "parse": run_parse,
    "syntax": run_syntax,
    "text": run_text,
    "nginx": sample_configs.run_nginx,
    "systemd": sample_configs.run_systemd,
    "dockerfile": sample_configs.run_dockerfile,
}
