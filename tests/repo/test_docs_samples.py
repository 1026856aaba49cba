"""Every code sample of the documentation (docs/ and the READMEs) is run, or checked as far as possible.

Each page's samples run in order in a fresh workspace (tests/repo/sample_workspace.py);
what is done with a sample is in its marker (tests/repo/doc_samples.py). Samples
that cannot run on this machine, and what replaces running them:

- ``pip install ...``: no network; the names, extras and pins must be ours.
- ``nginx`` configs: run as a real proxy when nginx is installed, else their
  block structure only (tests/repo/sample_configs.py).
- systemd units: ``systemd-analyze verify`` when installed; either way the
  service's command runs for real (socket-activated when the page has its
  ``.socket`` unit).
- ``openssl req -x509`` without openssl: the key and certificate are made
  with cryptography instead (tests/repo/sample_certificates.py).
- Dockerfiles and ``docker`` commands: no Docker daemon; the Dockerfile is
  parsed and its ``CMD`` served, the commands are syntax-checked.
- ``syntax`` samples (for software not installed here, or commands that would
  publish a release): shell syntax only; each says why in its marker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.repo.doc_samples import ACTIONS, REPO_ROOT, documentation_pages, read_documentation_page
from tests.repo.sample_actions import HANDLERS, run_sample
from tests.repo.sample_workspace import Workspace

PAGES = documentation_pages()


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_every_code_block_is_a_marked_sample(path: Path) -> None:
    page = read_documentation_page(path)
    assert page.problems == []


@pytest.mark.parametrize("path", [p for p in PAGES if read_documentation_page(p).samples], ids=page_id)
def test_samples_run(path: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    for sample in read_documentation_page(path).samples:
        run_sample(sample, workspace)


def test_every_action_has_a_handler() -> None:
    assert set(HANDLERS) == set(ACTIONS)
