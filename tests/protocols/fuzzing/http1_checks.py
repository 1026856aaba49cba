"""Serve a generated :class:`~tests.protocols.fuzzing.http1.Stream` through a protocol object, and judge it.

:func:`serve_stream` feeds the stream to the parser's protocol class (see
``drive.serve``), split as given and ended as the stream says; :func:`check`
holds the properties every outcome must have.
"""

from __future__ import annotations

import functools
from typing import Any

from tests.protocols.fuzzing.drive import Served, assert_clean, serve
from tests.protocols.fuzzing.http1 import Stream
from tests.protocols.fuzzing.http1_parser_limits import WIDE_LIMITS
from tests.protocols.fuzzing.http1_requests import LIMITS, echo_app
from tests.protocols.fuzzing.http1_responses import parse_responses
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.zttp_impl import ZttpProtocol

__all__ = ["PROTOCOLS", "check", "config", "serve_stream"]

PROTOCOLS: dict[str, type[Any]] = {"h11": H11Protocol, "httptools": HttpToolsProtocol, "zttp": ZttpProtocol}


@functools.cache
def config(parser: str, wide: bool = False) -> Config:
    """One loaded Config per parser for every example (building one configures logging).

    ``wide``: with the limits of ``WIDE_LIMITS`` (above those zttp keeps itself) instead of ``LIMITS``.
    """
    limits = WIDE_LIMITS if wide else LIMITS
    built = Config(
        echo_app, http=parser, ws="none", lifespan="off", access_log=False, log_config=None, **limits
    )
    built.load()
    return built


def serve_stream(parser: str, stream: Stream, chunks: list[bytes], wide: bool = False) -> Served:
    """Feed ``chunks`` (``stream``'s bytes, split some way) to a fresh protocol; end as ``stream`` says."""
    # Lingering: long enough for the keep-alive or the request head timeout to act.
    linger = max(LIMITS["timeout_keep_alive"], LIMITS["timeout_request_head"]) + 1
    return serve(
        PROTOCOLS[parser],
        config(parser, wide),
        chunks,
        pauses=stream.pauses,
        ending=stream.ending,
        linger=linger,
    )


def check(parser: str, stream: Stream, outcome: Served) -> list[Any]:
    """Assert the properties; return the responses (without the refusal) for comparing runs."""
    assert_clean(outcome)

    answered = stream.answered()
    methods = []
    for request in answered:
        methods += ["(100)"] * request.expects_continue + [request.method]
    responses, rest = parse_responses(outcome.written, [m for m in methods if m != "(100)"])
    expected_statuses = [100 if m == "(100)" else 200 for m in methods]
    final_responses = [r for r in responses if r.status >= 200]

    # Every complete valid request gets exactly one response: the echo of what it sent.
    got = [r.status for r in responses[: len(expected_statuses)]]
    assert got == expected_statuses, f"statuses {got}, expected {expected_statuses}"
    for request, response in zip(answered, final_responses, strict=False):
        reply = dict(request.seen_headers).get(b"x-reply")
        expected_body = b"" if request.method == "HEAD" or reply == b"empty" else request.description()
        assert response.body == expected_body, f"response body {response.body!r}, expected {expected_body!r}"
        closes = response.header(b"connection") == b"close"
        assert closes == request.closes, f"connection: close is {closes}, expected {request.closes}"
    extra = responses[len(expected_statuses) :]

    refused = stream.refused
    assert not outcome.stalled, "the server stopped reading and never resumed"
    if refused is not None:
        allowed = refused.allowed(parser)
        assert len(extra) == 1, f"{refused.name}: expected one refusal in {allowed}, got {extra!r} + {rest!r}"
        assert extra[0].status in allowed, f"{refused.name}: got {extra[0].status}, expected one of {allowed}"
        assert extra[0].header(b"connection") == b"close"
        assert outcome.closed_by_server, "the connection stayed open after a refusal"
    elif stream.cut_in_head and stream.ending == "linger" and not stream.closed_by_request:
        statuses = [r.status for r in extra]
        assert statuses == [408], f"a head cut short got {extra!r}, expected a 408"
        assert outcome.closed_by_server
    else:
        cut = stream.cut
        if stream.cut_in_body and cut is not None and cut.expects_continue and not stream.closed_by_request:
            assert [r.status for r in extra] == [100], "a body cut short: its 100 Continue, and no more"
            extra = []
        assert not extra, f"unexpected responses {extra!r}"
    assert not rest, f"bytes after the last response: {rest!r}"

    if stream.closed_by_request:
        assert outcome.closed_by_server, "a closing request's connection stayed open"
    elif stream.ending == "half-close":
        assert outcome.closed_by_server, "a half-closed connection stayed open"
    elif stream.ending == "linger" and not stream.cut_in_body:
        assert outcome.closed_by_server, "an idle connection outlived the timeouts"
    elif refused is None and stream.ending != "go-away":
        assert not outcome.closed_by_server, "the server closed a connection it owed nothing"
    return final_responses[: len(answered)]
