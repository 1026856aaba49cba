"""An HTTP/2 request head as the app sees it: the same checks and scope fields as HTTP/1.1.

The engine has already enforced RFC 9113 8.2-8.3 (pseudo-header rules, no
connection-specific or uppercase fields): what remains are the server's own
request-head limits (``request_head.check_limits``, 414/431 as on HTTP/1.1) and
the few headers the server itself acts on, and the announced body's size
(``limit_request_body``).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.body_limits import TOO_LARGE_MESSAGE, announced_too_large
from uvicorn.protocols.http.request_head import HeadProblem, check_limits, decode_path, split_target
from uvicorn.protocols.http.response_head import error_messages
from uvicorn.protocols.http2.limits import HTTP2Limits
from uvicorn.protocols.http2.response import response_fields

__all__ = ["RequestFacts", "read_request", "refusal"]

Headers = list[tuple[bytes, bytes]]


class RequestFacts:
    """What the server needs from a request's headers."""

    __slots__ = ("content_length", "expect_100", "trailers")

    def __init__(self) -> None:
        self.content_length: int | None = None
        self.expect_100 = False
        self.trailers = False  # TE: trailers


def read_request(
    template: dict[str, Any],
    raw_root_path: bytes,
    method_bytes: bytes,
    target: bytes,
    headers: Headers,
    limits: HTTP2Limits,
) -> tuple[dict[str, Any], RequestFacts]:
    """The scope of a request (its ``extensions`` are the connection's to add) and what its headers say.

    Raises :class:`HeadProblem`.
    """
    method = method_bytes.decode("ascii")
    check_limits(
        method,
        target,
        headers,
        limits.max_request_line,
        limits.max_header_fields,
        limits.max_header_list_size,
    )
    facts = RequestFacts()
    for name, value in headers:
        if name == b"content-length":
            try:
                facts.content_length = int(value)
            except ValueError:
                raise HeadProblem(400, "Invalid HTTP request received: invalid content-length.") from None
        elif name == b"te":
            facts.trailers = b"trailers" in value.lower()
        elif name == b"expect":
            facts.expect_100 = value.lower() == b"100-continue"
    too_large = announced_too_large(facts.content_length, limits.max_request_body)
    if too_large is not None:
        raise HeadProblem(413, TOO_LARGE_MESSAGE, too_large)
    if target[:1] != b"/" and target != b"*":
        raise HeadProblem(400, "Invalid HTTP request received: unsupported request target.")
    raw_path, query_string = split_target(target)
    scope = template.copy()
    scope["method"] = method
    scope["path"] = template["root_path"] + decode_path(raw_path)
    scope["raw_path"] = raw_root_path + raw_path
    scope["query_string"] = query_string
    scope["headers"] = headers
    return scope, facts


def refusal(problem: HeadProblem, default_headers: Headers) -> tuple[Headers, bytes]:
    """The head fields and body of the answer to a refused request (the shared error response)."""
    start, body = error_messages(problem.status, problem.message)
    fields, _ = response_fields(start["headers"], default_headers)
    return fields, body["body"]
