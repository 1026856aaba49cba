"""``setting()``: one ``uvicorn`` command option for one ``Config`` parameter, its default read from Config.

Every option module declares its options with it, so an option's default is
``Config``'s default for the same name and the two cannot drift apart.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import click

from uvicorn._cli_types import BoundedInt
from uvicorn.config import Config

__all__ = ["PORT", "setting"]

_F = TypeVar("_F", bound=Callable[..., Any])

# A TCP port; 0 asks the system for a free one.
PORT = BoundedInt(0, 65535)

_CONFIG_DEFAULTS = {
    name: parameter.default for name, parameter in inspect.signature(Config.__init__).parameters.items()
}


def setting(
    flag: str, type: Any = None, help: str = "", *, hide_default: bool = False, **click_settings: Any
) -> Callable[[_F], _F]:
    """The click option ``flag`` (``--name`` or ``--name/--no-name``) setting ``Config``'s ``name``.

    ``--help`` shows the default unless ``hide_default`` (as upstream hides
    some), or there is none to show: ``None``, or an off flag (click 7 would
    print "None" or "False").
    """
    name = flag.partition("/")[0].removeprefix("--").replace("-", "_")
    default = _CONFIG_DEFAULTS[name]
    if isinstance(default, enum.IntEnum):
        default = int(default)  # the number the command line takes, shown as such
    nothing_to_show = default is None or click_settings.get("is_flag", False)
    shown = not (hide_default or nothing_to_show)
    # None (not False) leaves a hidden default to the context's show_default, as click's own default does.
    return click.option(
        flag, type=type, default=default, show_default=shown or None, help=help, **click_settings
    )
