"""Find the code samples of the documentation and what each one's marker asks a test to do with it.

Every fenced code block in a documentation page carries a marker on the line
right above it, an HTML comment that the rendered site does not show::

    <!-- sample: shell serves port=5000 -->
    ```shell
    uvicorn main:app --port 5000
    ```

The first word is the action (see ``ACTIONS``), the rest are ``key=value``
options (shell-quoted when a value has spaces). A fenced block without a
marker, a marker without a block, and an indented code block (which could
hold no marker) are reported as problems, so a new sample cannot go untested.

Options most actions understand (each action's handler reads the ones it needs):

- ``serves`` (a flag, for ``shell`` and ``script``): the command runs a server;
  the test requests it, then stops it (``stop=SIGTERM`` to stop it otherwise
  than with Ctrl+C's SIGINT). Without it the command must finish by itself,
  with exit code ``exit=N`` (default 0).
- ``port=N``: the port the sample names; the test listens on a free port instead.
  ``uds=PATH``: the same for a UNIX socket path.
- ``needs=a.py,pkg/b.py``: files of ``sample_support/`` the sample relies on
  without showing them (the reader's own application).
- the request and what must come back: ``request=websocket``, ``path=/x``,
  ``post=TEXT`` (a POST with that body), ``host=NAME`` (Host header),
  ``verify=cert.pem`` (HTTPS, verified with that file),
  ``cert=client.pem,client-key.pem`` (a client certificate), ``status=N``,
  ``expect=TEXT`` (in the body, or in the output of a finished command),
  ``header=Name:value`` (in the response).
- ``parser=module:function`` for ``parse`` samples, with ``script=scripts/x.py``
  when the commands run a script by its path (its folder is put on ``sys.path``
  to import ``module``);
- ``file=PATH`` and ``attr=NAME`` for Python samples; an ``app`` sample's other
  ``key=value`` options are ``Config`` parameters (``loop=asyncio``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"

#: What the test does with each kind of sample (tests/repo/test_docs_samples.py runs them).
ACTIONS = {
    "app": "a Python module defining an ASGI app: served in-process and requested",
    "module": "a Python module written to the page's workspace and imported there",
    "file": "a file written to the page's workspace for later samples (config files, certificates)",
    "script": "a Python script run in the workspace; with 'serves' it is requested, then stopped with SIGINT",
    "shell": "commands run in the workspace: uvicorn, gunicorn, python and openssl for real, "
    "pip install checked against our distributions' names and extras",
    "output": "log lines that the previous serving sample of the page must have printed",
    "signature": "a call signature compared with inspect.signature of the named object",
    "excerpt": "source code that must appear in the named file of the repository",
    "members": "classes shown member for member as the named module defines them (every Protocol it exports)",
    "forwarded": "a forwarding header: run through ProxyHeadersMiddleware, the client, scheme "
    "and host it yields compared with the marker's",
    "nginx": "an nginx configuration: run as a real proxy in front of uvicorn when nginx is installed",
    "systemd": "systemd units: checked by systemd-analyze when installed; a service is run for real, "
    "socket-activated when its .socket unit came first",
    "dockerfile": "a Dockerfile: parsed (no Docker daemon in CI), and its CMD served in the workspace",
    "checkout": "commands for a checkout of this repository: the same as the README's and CI's",
    "install": "install commands that scripts/check_dists.py runs as written on fresh environments "
    "(scenario=NAME: the block of docs/installation.md it runs; other pages repeat it word for word)",
    "parse": "command-line arguments given to the program's own argument parser, without running it",
    "syntax": "a command for software that is not installed here: only its shell syntax is checked",
    "text": "not code (a diagram): only checked to name real distributions",
}

_MARKER = re.compile(r"^<!--\s*sample:\s*(?P<action>[\w-]+)(?P<options>.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>.*)$")
_LIST_ITEM = re.compile(r"^( {0,3})([-*+]|\d+\.)\s")


@dataclass
class Sample:
    """One marked code block: where it is, what to do with it, and its text."""

    page: Path
    line: int
    action: str
    language: str
    code: str
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line}"

    def option(self, name: str, default: str = "") -> str:
        return self.options.get(name, default)


@dataclass
class Page:
    """The samples of one Markdown file, in order, and what is wrong with its markup."""

    path: Path
    samples: list[Sample]
    problems: list[str]


def parse_options(text: str) -> tuple[dict[str, str], set[str]]:
    """``key=value`` words become options; bare words become flags."""
    options: dict[str, str] = {}
    flags: set[str] = set()
    for word in shlex.split(text):
        key, equals, value = word.partition("=")
        if equals:
            options[key] = value
        else:
            flags.add(word)
    return options, flags


def read_page(path: Path, skip_until: str | None = None) -> Page:
    """The samples of ``path``; with ``skip_until``, only those after the first line equal to it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    if skip_until is not None:
        start = lines.index(skip_until) + 1
    samples: list[Sample] = []
    problems: list[str] = []
    marker: tuple[int, str, str] | None = None
    in_list = False
    previous_blank = True
    index = start
    while index < len(lines):
        line = lines[index]
        number = index + 1
        fence = _FENCE.match(line)
        if found := _MARKER.match(line):
            if marker is not None:
                problems.append(f"{path.name}:{marker[0]}: marker without a code block below it")
            if found["action"] not in ACTIONS:
                problems.append(f"{path.name}:{number}: unknown sample action {found['action']!r}")
            marker = (number, found["action"], found["options"])
        elif fence:
            end = _closing_fence(lines, index, fence["fence"])
            if end is None:
                problems.append(f"{path.name}:{number}: code block never closed")
                break
            indent = len(fence["indent"])
            code = "\n".join(text[indent:] for text in lines[index + 1 : end]) + "\n"
            if marker is None or marker[0] != number - 1:
                problems.append(f"{path.name}:{number}: code block without a '<!-- sample: ... -->' marker")
            else:
                options, flags = parse_options(marker[2])
                samples.append(Sample(path, number, marker[1], fence["info"].strip(), code, options, flags))
            marker = None
            index = end + 1
            previous_blank = False
            continue
        elif line.strip():
            if marker is not None:
                problems.append(f"{path.name}:{marker[0]}: marker not directly above a code block")
                marker = None
            if _LIST_ITEM.match(line):
                in_list = True
            elif not line.startswith(" "):
                in_list = False
            elif line.startswith("    ") and previous_blank and not in_list:
                problems.append(
                    f"{path.name}:{number}: indented code block; use a fenced block with a marker"
                )
        previous_blank = not line.strip()
        index += 1
    if marker is not None:
        problems.append(f"{path.name}:{marker[0]}: marker without a code block below it")
    return Page(path, samples, problems)


def _closing_fence(lines: list[str], opening: int, fence: str) -> int | None:
    for index in range(opening + 1, len(lines)):
        if lines[index].strip() == fence:
            return index
    return None


def documentation_pages() -> list[Path]:
    """Every page of the site, and the READMEs (the packages' index pages), sorted."""
    pages = sorted(DOCS_DIR.glob("**/*.md"))
    readmes = sorted((REPO_ROOT / "packages").glob("*/README.md"))
    return [*pages, REPO_ROOT / "README.md", *readmes]


#: The root README starts with the set-up commands CI itself runs; its samples follow this line.
ROOT_README_SEPARATOR = "---"


def read_documentation_page(path: Path) -> Page:
    skip = ROOT_README_SEPARATOR if path == REPO_ROOT / "README.md" else None
    return read_page(path, skip_until=skip)
