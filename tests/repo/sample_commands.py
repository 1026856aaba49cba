"""Shell samples: split them into commands, and decide how each one is checked.

A command is one logical line (``\\`` continues it), with ``NAME=value``
assignments in front taken as its environment. Programs are run from the
test's virtual environment, so ``uvicorn``, ``gunicorn`` and ``python`` are
the ones of this workspace.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

from tests.repo.doc_samples import REPO_ROOT

_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass
class Command:
    """One command of a shell sample."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def program(self) -> str:
        """``uvicorn``, ``gunicorn``, ``pip``, ``python``...; ``python -m X`` counts as ``X``."""
        name = Path(self.argv[0]).name
        if name in ("python", "python3") and self.argv[1:2] == ["-m"] and len(self.argv) > 2:
            return self.argv[2]
        return "pip" if name == "pip3" else name

    @property
    def arguments(self) -> list[str]:
        """The arguments after the program (and after ``-m module``)."""
        if Path(self.argv[0]).name in ("python", "python3") and self.argv[1:2] == ["-m"]:
            return self.argv[3:]
        return self.argv[1:]


def split_commands(code: str) -> list[Command]:
    """The commands of a shell block: comments and blank lines dropped, continuations joined."""
    commands: list[Command] = []
    pending = ""
    for raw in code.splitlines():
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        words = shlex.split(line, comments=True)
        if not words:
            continue
        env: dict[str, str] = {}
        while words and _ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words, f"{line!r}: only variable assignments"
        commands.append(Command(words, env, line.split("#")[0].strip()))
    assert not pending, "a shell sample ends with a line continuation"
    return commands


def substitute_port(command: Command, port: str) -> bool:
    """Replace the sample's port number by 0 (the kernel picks one); whether it was there."""
    pattern = re.compile(rf"(?<![\d.]){re.escape(port)}(?!\d)")
    found = False
    for index, word in enumerate(command.argv):
        if pattern.search(word):
            command.argv[index] = pattern.sub("0", word)
            found = True
    for name, value in command.env.items():
        if pattern.fullmatch(value):
            command.env[name] = "0"
            found = True
    return found


def substitute_path(command: Command, path: str, replacement: str) -> bool:
    """Replace a socket path the sample names (``/tmp/x.sock``) by one in the workspace."""
    found = False
    for index, word in enumerate(command.argv):
        if path in word:
            command.argv[index] = word.replace(path, replacement)
            found = True
    return found


def listen_on_free_port(command: Command) -> None:
    """Make a server command that names no address listen on a port the kernel picks.

    A fixed port left in the command is a mistake of the marker (it lacks
    ``port=N``): the test would depend on that port being free.
    """
    words = command.arguments
    for flag, value in zip(words, words[1:], strict=False):
        names_a_port = flag in ("--port", "--bind", "-b") and not value.startswith("unix:")
        fixed = names_a_port and not value.endswith(":0")
        assert not fixed or value == "0", f"{command.text}: add port=... to the marker (fixed port {value})"
    assert command.env.get("UVICORN_PORT", "0") == "0", f"{command.text}: add port=... to the marker"
    given = {word.split("=")[0] for word in words}
    if command.program == "uvicorn" and not {"--port", "--uds", "--fd", "--bind"} & given:
        command.env.setdefault("UVICORN_PORT", "0")
    elif command.program == "gunicorn" and not {"--bind", "-b"} & given:
        command.env.setdefault("GUNICORN_CMD_ARGS", "--bind 127.0.0.1:0")


# ---------------------------------------------------------------- pip install


@cache
def our_distributions() -> dict[str, set[str]]:
    """Our distribution names and the extras each one declares.

    Read from the metadata of the workspace's installed packages (``uv run``
    keeps it in step with the pyproject files) rather than from the TOML
    files, which Python 3.10 has no parser for.
    """
    requirements = metadata.distribution("uvicorn").requires or []
    parts = [re.split(r"[\s;=<>~!\[]", r, maxsplit=1)[0] for r in requirements if ";" not in r]
    names = ["uvicorn", *(name for name in parts if name.startswith("uvicorn-"))]
    return {name: set(metadata.distribution(name).metadata.get_all("Provides-Extra") or []) for name in names}


_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[(?P<extras>[^\]]*)\])?(?P<spec>.*)$")


def check_pip_install(command: Command) -> None:
    """Each requirement of ``pip install ...`` names one of ours and extras it has, or a known tool.

    Nothing is installed (that would need the network): the check is that a
    reader following the documentation asks for things that exist.
    """
    arguments = command.arguments
    assert arguments[:1] == ["install"], f"{command.text}: only 'pip install' is understood"
    third_party = {"gunicorn", "wsproto", "websockets", "httptools", "uvloop", "watchfiles", "hypercorn"}
    for requirement in arguments[1:]:
        if requirement.startswith("-"):
            raise AssertionError(f"{command.text}: pip option {requirement} is not checked here")
        match = _REQUIREMENT.match(requirement)
        assert match, f"{command.text}: cannot read requirement {requirement!r}"
        name = match["name"].lower()
        if name in third_party:
            continue
        extras = {e.strip() for e in (match["extras"] or "").split(",") if e.strip()}
        assert name in our_distributions(), f"{command.text}: {name} is not one of our distributions"
        missing = extras - our_distributions()[name]
        assert not missing, f"{command.text}: {name} has no extra {sorted(missing)}"
        spec = match["spec"].strip()
        if spec:
            version = (REPO_ROOT / "VERSION").read_text().strip()
            assert spec == f"=={version}", f"{command.text}: pins {spec}, the release is {version}"


# ---------------------------------------------------------------- commands of a checkout


def checkout_commands() -> set[str]:
    """Commands CI runs from a clean clone (``.ci/run``) and the README's set-up block."""
    commands: set[str] = set()
    readme = (REPO_ROOT / "README.md").read_text().split("\n---\n")[0]
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    for text in (readme, ci):
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for part in line.split("&&"):
                commands.add(normalise_uv(part.strip()))
    return commands


def normalise_uv(command: str) -> str:
    """``python3 -m uv run x`` and ``uv run x`` are the same command."""
    return re.sub(r"^python3? -m uv\b", "uv", command)
