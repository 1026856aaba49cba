"""Parse the RFC 7239 ``Forwarded`` header.

``Forwarded: for=192.0.2.60;proto=https;host=example.com, for="[2001:db8::1]:4711"``

Each comma-separated *element* describes one hop: ``for`` (who connected to
the proxy), ``proto`` (the scheme it was reached with), ``host`` (the Host
header it received) and ``by`` (its own address). Values are tokens or
quoted strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

__all__ = ["ForwardedElement", "ForwardedSyntaxError", "elements_right_to_left", "parse_forwarded_line"]


class ForwardedSyntaxError(ValueError):
    """A ``Forwarded`` header line that does not follow RFC 7239."""


class ForwardedElement(NamedTuple):
    for_: str | None
    proto: str | None
    host: str | None


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\x09\x20-\x7e\x80-\xff])*"'
# One optional pair followed by the separator that ends it (";" between pairs,
# "," between elements, or the end of the line). RFC 7239 allows empty pairs
# and elements, and whitespace around the separators, not around "=".
_ITEM = re.compile(rf"[ \t]*(?:({_TOKEN})=({_TOKEN}|{_QUOTED}))?[ \t]*([;,]|\Z)")
_ESCAPED = re.compile(r"\\(.)")
_KNOWN_PARAMETERS = frozenset({"for", "proto", "host", "by"})


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _ESCAPED.sub(r"\1", value[1:-1])
    return value


def parse_forwarded_line(line: str) -> list[ForwardedElement]:
    """Parse one ``Forwarded`` header line into its elements, left to right.

    Raises ForwardedSyntaxError when the line is malformed, including a
    parameter repeated within one element (RFC 7239 section 4).
    """
    elements: list[ForwardedElement] = []
    names: set[str] = set()
    values: dict[str, str] = {}
    position = 0
    while True:
        match = _ITEM.match(line, position)
        if match is None:
            raise ForwardedSyntaxError(f"unexpected text at offset {position}")
        name, value, separator = match.groups()
        if name is not None:
            name = name.lower()
            if name in names:
                raise ForwardedSyntaxError(f"parameter {name!r} repeated in one element")
            names.add(name)
            # Unknown parameters are extensions (RFC 7239 section 5.5): valid, unused.
            if name in _KNOWN_PARAMETERS:
                values[name] = _unquote(value)
        if separator != ";":
            if names:  # an empty list member (", ,") is no hop
                elements.append(ForwardedElement(values.get("for"), values.get("proto"), values.get("host")))
                names, values = set(), {}
            if not separator:
                return elements
        position = match.end()


def elements_right_to_left(lines: Sequence[str]) -> Iterator[ForwardedElement]:
    """Yield the elements of several ``Forwarded`` lines from the last one back.

    Lines are parsed only when the walk reaches them, so a malformed line to
    the left of the hop being looked for (such as one a client made up
    before the trusted proxies appended theirs) is never read.
    """
    for line in reversed(lines):
        yield from reversed(parse_forwarded_line(line))
