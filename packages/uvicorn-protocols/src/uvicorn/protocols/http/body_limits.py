"""The bounds on a request body, the same for HTTP/1.1 and HTTP/2: its size and its pace.

- ``limit_request_body``: a body announced larger (``content-length``) is refused
  with ``413`` before the app runs; a body that grows past it while it arrives
  (chunked, or HTTP/2 DATA) is cut: ``413`` if the app has not begun its
  response, else the connection (HTTP/2: the stream) is ended. Off by default.
- ``timeout_request_body``: while the app waits for more of the body, the client
  must send the next piece within this many seconds; otherwise ``408`` (when no
  response has started) and the connection (HTTP/2: the stream) ends. The app
  gets ``http.disconnect`` either way. The wait itself is timed by the request's
  cycle (``cycle.py``), which asks its connection to act.
"""

from __future__ import annotations

__all__ = [
    "TIMEOUT_MESSAGE",
    "TOO_LARGE_MESSAGE",
    "announced_too_large",
    "stalled_reason",
    "too_large_reason",
]

TOO_LARGE_MESSAGE = "Content Too Large."
TIMEOUT_MESSAGE = "Request Timeout."


def announced_too_large(content_length: int | bytes | None, limit: int | None) -> str | None:
    """Why a request announcing this body length is refused (413), or None when it is within ``limit``."""
    if limit is None or content_length is None:
        return None
    if isinstance(content_length, bytes):
        # The parsers checked the syntax; h11 may pass a repeated value ("5, 5").
        content_length = int(content_length.split(b",")[0])
    if content_length > limit:
        return f"content-length {content_length} over {limit} bytes (limit_request_body)"
    return None


def too_large_reason(limit: int) -> str:
    """The log line's reason for a body that grew past ``limit``."""
    return f"request body over {limit} bytes (limit_request_body)"


def stalled_reason(seconds: float) -> str:
    """The log line's reason for a body whose next piece did not come within ``seconds``."""
    return f"no request body received for {seconds}s while the app waited for it (timeout_request_body)"
