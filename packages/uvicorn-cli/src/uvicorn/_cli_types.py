"""Click parameter types for the ``uvicorn`` command: checked at parse time, before anything starts.

A value these reject is a usage error (exit code 2) naming the option and
what it accepts, even with ``--reload`` or ``--workers``, where the server
itself would only find out in a child process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    # Generic in recent click only; at run time any click >= 7 will do.
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType

__all__ = ["BoundedFloat", "BoundedInt", "HeaderType", "ImplementationType"]


class ImplementationType(_ParamType):
    """One of the named implementations, or an import string ``"module:attribute"`` for your own.

    ``passed_on`` names upstream implementations this uvicorn lacks (``zttp``):
    they reach ``Config``, which explains what to do instead.
    """

    name = "text"

    def __init__(self, names: Iterable[str], passed_on: Iterable[str] = ()) -> None:
        self.names = list(names)
        self.passed_on = set(passed_on)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a class given programmatically (default_map)
        if value in self.names or value in self.passed_on or _is_import_string(value):
            return value
        choices = ", ".join(repr(name) for name in self.names)
        self.fail(f"{value!r} is not one of {choices}, nor an import string 'module:attribute'.", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.names) + "]"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(name) for name in self.names if name.startswith(incomplete)]


class HeaderType(_ParamType):
    """``Name:Value`` → ``(name, value)``: the value may hold colons, spaces around either are dropped.

    Upstream 0.55 checks the same shape (a colon after a name) with the same
    message; a name holding spaces is refused here too (no header name can).
    """

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list | tuple):
            return tuple(value)
        name, colon, header_value = str(value).partition(":")
        name = name.strip()
        if not colon or not name or any(char.isspace() for char in name):
            self.fail(
                f"Expected 'Name:Value' format, got {value!r}. A header name has no spaces; "
                "for example 'X-Frame-Options:DENY'.",
                param,
                ctx,
            )
        return (name, header_value.strip())


class BoundedInt(click.types.IntParamType):
    """An integer within bounds, shown as a plain ``INTEGER`` in ``--help`` as upstream shows it."""

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min = min
        self.max = max

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            self.fail(f"{number} is not in the range {_describe(self.min, self.max, '<=')}.", param, ctx)
        return number


class BoundedFloat(click.types.FloatParamType):
    """A number above ``above`` (exclusive), shown as a plain ``FLOAT`` in ``--help``."""

    def __init__(self, above: float) -> None:
        self.above = above

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not number > self.above:
            self.fail(f"{number} is not in the range x>{self.above:g}.", param, ctx)
        return number


def _describe(low: float | None, high: float | None, operator: str) -> str:
    if low is None:
        return f"x{operator}{high}"
    if high is None:
        return f"x>={low}"
    return f"{low}{operator}x{operator}{high}"


def _is_import_string(value: str) -> bool:
    module, _, attribute = value.partition(":")
    return bool(module) and bool(attribute)
