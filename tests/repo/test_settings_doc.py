"""docs/settings.md documents every option: each Config parameter (with its default), flag and variable.

The tables have one row per option: ``| `name` | default | flags / env vars | meaning |``.
Their first column must cover ``Config``'s and ``uvicorn.run``'s parameters,
the page must name every flag of the command (both halves of on/off flags)
and its environment variable, and a default written as a Python literal must
be the one in the code.
"""

from __future__ import annotations

import ast
import inspect
import re
import ssl
from typing import Any

import click
import pytest

from tests.repo.doc_samples import DOCS_DIR
from uvicorn import Config, run
from uvicorn.main import main as command

PAGE = (DOCS_DIR / "settings.md").read_text()
_CELL = r"(?:[^|\\]|\\.)*"  # table cells may hold escaped pipes: `--loop [auto\|asyncio]`
_ROW = re.compile(
    rf"^\| `(?P<name>\w+)`(?: \([^|]*?\))? \| (?P<default>{_CELL}) \| (?P<flags>{_CELL}) \|", re.M
)
ROWS = {m["name"]: m for m in _ROW.finditer(PAGE)}


def documented_default(cell: str) -> Any:
    """The first backticked value of a default cell, as Python; ``...`` when it is prose."""
    found = re.search(r"`([^`]+)`", cell)
    if found is None:
        return ...
    text = found[1]
    if text.startswith("ssl."):
        return getattr(ssl, text.removeprefix("ssl."))
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return ...


def test_every_parameter_has_a_row() -> None:
    parameters = set(inspect.signature(Config).parameters) | set(inspect.signature(run).parameters)
    assert parameters - set(ROWS) == set()
    assert set(ROWS) - parameters == set(), "rows for options that do not exist"


@pytest.mark.parametrize("name", sorted(inspect.signature(Config).parameters))
def test_documented_default_is_the_real_one(name: str) -> None:
    real = inspect.signature(Config).parameters[name].default
    shown = documented_default(ROWS[name]["default"])
    if shown is ... or real is inspect.Parameter.empty:
        pytest.skip(f"the default of {name} is described in words")
    assert shown == real


def command_options() -> list[click.Parameter]:
    return [p for p in command.params if p.name not in ("version", "help")]


@pytest.mark.parametrize("param", command_options(), ids=lambda p: p.name or "")
def test_every_flag_and_variable_is_documented(param: click.Parameter) -> None:
    for written in [*param.opts, *param.secondary_opts]:
        flag = written.upper() if isinstance(param, click.Argument) else written
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", PAGE), (
            f"{flag} is not on the settings page"
        )
    variable = f"UVICORN_{param.name.upper()}" if param.name else ""
    assert f"`{variable}`" in PAGE or f"/ `{variable}" in PAGE, f"{variable} is not on the settings page"


def test_flags_in_rows_exist() -> None:
    known = {flag for p in command.params for flag in [*p.opts, *p.secondary_opts]}
    for name, row in ROWS.items():
        for flag in re.findall(r"`(--[a-z0-9-]+)", row["flags"]):
            assert flag in known, f"row {name}: {flag} is not a flag of the uvicorn command"
