"""The rules of HTTP fields and statuses (RFC 9110) that every protocol module checks the same way.

Requests and responses, HTTP and the WebSocket handshake: a field name must be a
token, a field value must hold no control character, list-valued fields are
comma-separated, and some statuses never carry content.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL_CHARACTER", "NO_CONTENT_STATUSES", "TOKEN", "comma_list"]

#: RFC 9110 5.6.2: ``token = 1*tchar``. Use ``TOKEN.fullmatch(name)`` on a field name.
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: RFC 9110 5.5: field values are visible characters, SP, HTAB and obs-text. Any match of
#: ``CONTROL_CHARACTER.search(value)`` (CR, LF, NUL, DEL, other controls) makes a value invalid.
CONTROL_CHARACTER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

#: RFC 9110 6.4.1: responses with these statuses have no content, whatever their headers say
#: (informational 1xx, 204 No Content, 304 Not Modified).
NO_CONTENT_STATUSES = frozenset([*range(100, 200), 204, 304])


def comma_list(value: bytes, lower: bool = True) -> list[bytes]:
    """The elements of a comma-separated field value (RFC 9110 5.6.1), without their OWS.

    Lowercased unless ``lower`` is false; empty elements are kept (as ``b""``).
    """
    if lower:
        value = value.lower()
    return [element.strip(b" \t") for element in value.split(b",")]
