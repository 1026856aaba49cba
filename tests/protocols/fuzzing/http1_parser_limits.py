"""Request heads at the bounds zttp's parser keeps itself, whatever the server's options say.

zttp refuses (``431``) a request head over 64 KiB, a line in it over 16 KiB, or
more than 100 header fields, even when ``limit_request_head_size``,
``limit_request_line`` and ``limit_request_fields`` allow more (docs/settings.md,
docs/server-behaviour.md). The other parsers follow the options alone. Each
generated stream holds one valid request sized exactly at one of zttp's bounds,
or a byte or a field or two on either side of it, and is served with options
wider than zttp's bounds (:data:`WIDE_LIMITS`): zttp must refuse it exactly
when it is over, every other parser must serve it.
"""

from __future__ import annotations

import dataclasses
import random

from hypothesis import strategies as st

from tests.protocols.fuzzing.http1 import Stream
from tests.protocols.fuzzing.http1_broken import Broken
from tests.protocols.fuzzing.http1_requests import PARSERS, Request

__all__ = ["WIDE_LIMITS", "ZTTP_BOUNDS", "streams_near_zttp_bounds"]

#: Options above every bound of zttp's, so that only zttp's own bounds can refuse.
WIDE_LIMITS = {
    "limit_request_line": 32768,
    "limit_request_fields": 200,
    "limit_request_head_size": 262144,
    "timeout_request_head": 10.0,
    "timeout_keep_alive": 5,
}

#: zttp's own bounds (measured on zttp 0.0.35): the largest that passes.
ZTTP_BOUNDS = {
    "fields": 100,  # header fields in one head
    "field-line": 16383,  # bytes of a field line, without its CRLF
    "request-line": 16383,  # bytes of the request line, without its CRLF
    "head": 65536,  # bytes of the whole head, its final empty line included
}


def _base(rnd: random.Random) -> Request:
    method = rnd.choice(["GET", "POST"])
    body = bytes(rnd.randrange(97, 123) for _ in range(rnd.randrange(20))) if method == "POST" else b""
    headers = [(b"Host", b"example.org")]
    if method == "POST":
        headers.append((b"Content-Length", b"%d" % len(body)))
    framing = "length" if method == "POST" else "none"
    return Request(method, b"/z", b"/z", b"", "1.1", headers, body, framing)


def _sized(request: Request, bound: str, size: int) -> Request:
    """``request`` grown so that what ``bound`` measures is ``size``."""
    headers = list(request.headers)
    if bound == "fields":
        headers += [(b"X-%d" % i, b"v") for i in range(size - len(headers))]
    elif bound == "field-line":
        headers.append((b"X-Line", b"v" * (size - len(b"X-Line:"))))
    elif bound == "request-line":
        path = b"/" + b"p" * (size - len(f"{request.method}  HTTP/1.1") - 1)
        return dataclasses.replace(request, target=path, raw_path=path)
    else:  # the whole head: fields of 4000 bytes, and one more for the rest
        while size - len(dataclasses.replace(request, headers=headers).head()) > 4000 + 20:
            headers.append((b"X-Fill-%d" % len(headers), b"f" * 4000))
        rest = size - len(dataclasses.replace(request, headers=headers).head()) - len(b"X-Rest:\r\n")
        headers.append((b"X-Rest", b"r" * rest))
    return dataclasses.replace(request, headers=headers)


@st.composite
def streams_near_zttp_bounds(draw: st.DrawFn, bound: str, offset: int) -> tuple[Stream, Stream]:
    """``(stream, as_zttp_sees_it)``: a request ``offset`` past ``bound``, and the stream as zttp answers it.

    Within zttp's bound the two are the same; over it, zttp's holds one request refused with 431.
    """
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    request = _sized(_base(rnd), bound, ZTTP_BOUNDS[bound] + offset)
    data_length = len(request.encode())
    cuts = sorted({rnd.randint(1, data_length - 1) for _ in range(draw(st.integers(0, 8)))})
    ending = draw(st.sampled_from(["half-close", "go-away"]))
    stream = Stream([request], None, b"", None, cuts, ending, [])
    if offset <= 0:
        return stream, stream
    statuses = {parser: {431} for parser in PARSERS}
    refused = Stream([], Broken(f"zttp-{bound}", request.encode(), statuses), b"", None, cuts, ending, [])
    return stream, refused
