"""Minimal ANSI terminal styling for coloured log output.

uvicorn-core must not depend on click, so the few escape sequences the log
formatters and startup messages need are written here.
"""

from __future__ import annotations

__all__ = ["FOREGROUND_CODES", "style"]

#: SGR foreground colour codes by name (the names click uses, so callers read the same).
FOREGROUND_CODES: dict[str, int] = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
    "bright_black": 90,
    "bright_red": 91,
    "bright_green": 92,
    "bright_yellow": 93,
    "bright_blue": 94,
    "bright_magenta": 95,
    "bright_cyan": 96,
    "bright_white": 97,
}

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"


def style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """Wrap ``text`` in escape sequences for colour ``fg`` and/or bold, then reset.

    Raises ``KeyError`` for an unknown colour name: a typo in our own code should be loud.
    """
    codes = ""
    if fg is not None:
        codes += f"\x1b[{FOREGROUND_CODES[fg]}m"
    if bold:
        codes += _BOLD
    return f"{codes}{text}{_RESET}"
