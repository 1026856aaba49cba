"""Checking the close code and reason an app sends with ``websocket.close`` (RFC 6455 7.4).

Each library has its own way of refusing a bad close (or of sending it anyway);
checking here gives the app the same clear error whichever library is in use.
"""

from __future__ import annotations

__all__ = ["REGISTERED_CODES", "check_close"]

#: The registered codes an endpoint may send (RFC 6455 7.4.1, and 1012-1014 registered
#: with IANA since); the ranges for libraries and frameworks (3000-3999) and private
#: use (4000-4999) are valid too. 1004, 1005, 1006 and 1015 are reserved and must
#: never appear in a close frame.
REGISTERED_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))

#: A close frame is a control frame: at most 125 payload bytes, 2 of them the code.
MAX_REASON_BYTES = 123


def check_close(code: object, reason: object) -> tuple[int, str]:
    """``(code, reason)`` to send for a ``websocket.close``; a missing code means 1000.

    Raises ``RuntimeError`` naming the problem when the frame could not be sent.
    """
    if code is None:
        code = 1000
    if isinstance(code, bool) or not isinstance(code, int):
        raise RuntimeError(f"The WebSocket close code must be an integer, got {code!r}.")
    if code not in REGISTERED_CODES and not 3000 <= code <= 4999:
        raise RuntimeError(
            f"Invalid WebSocket close code {code}: use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 7.4)."
        )
    if not reason:
        return int(code), ""
    if not isinstance(reason, str):
        raise RuntimeError(f"The WebSocket close reason must be a string, got {reason!r}.")
    try:
        size = len(reason.encode("utf-8"))
    except UnicodeEncodeError:
        raise RuntimeError(f"The WebSocket close reason {reason!r} cannot be encoded in UTF-8.") from None
    if size > MAX_REASON_BYTES:
        raise RuntimeError(f"The WebSocket close reason is over {MAX_REASON_BYTES} bytes in UTF-8.")
    return int(code), reason
