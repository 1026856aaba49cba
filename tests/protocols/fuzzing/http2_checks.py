"""Serve a generated HTTP/2 :class:`~tests.protocols.fuzzing.http2.Conversation`, and judge it.

:func:`serve_conversation` feeds the conversation to the HTTP/2 protocol class of
one engine (``http2_engine``: h2 or zttp), built as the server builds it (see
``drive.serve``); :func:`check` holds the properties every outcome must have
and returns what can be compared across splits and engines.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from tests.protocols.fuzzing.drive import Served, assert_clean, serve
from tests.protocols.fuzzing.http1_requests import echo_app
from tests.protocols.fuzzing.http2 import Conversation
from tests.protocols.fuzzing.http2_answers import BROKEN_PATH, IGNORED, Answer
from tests.protocols.fuzzing.http2_frames import (
    ERROR_NAMES,
    NO_ERROR,
    SETTINGS,
    ServerOutput,
    read_server,
)
from tests.protocols.fuzzing.http2_requests import LIMITS
from uvicorn.config import Config

__all__ = ["PROTOCOLS", "Observed", "check", "serve_conversation"]


def _protocol(engine: str) -> type[Any]:
    if engine == "h2":
        from uvicorn.protocols.http.h2_impl import H2Protocol

        return H2Protocol
    from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol

    return ZttpH2Protocol


PROTOCOLS = {engine: _protocol(engine) for engine in ("h2", "zttp")}


async def logging_echo_app(scope: Any, receive: Any, send: Any) -> None:
    """``echo_app``, recording in ``scope["state"]["log"]`` each request's path and whether its body ended."""
    entry = {"path": scope["raw_path"], "complete": False}
    scope["state"]["log"].append(entry)

    async def logged_receive() -> Any:
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            entry["complete"] = True
        return message

    await echo_app(scope, logged_receive, send)


@functools.cache
def config(engine: str) -> Config:
    built = Config(
        logging_echo_app,
        http="h11",
        http2=True,
        http2_engine=engine,
        ws="none",
        lifespan="off",
        access_log=False,
        log_config=None,
        **LIMITS,
    )
    built.load()
    return built


@dataclass
class H2Outcome:
    served: Served
    app_log: list[dict[str, Any]]


def serve_conversation(engine: str, conversation: Conversation, chunks: list[bytes]) -> H2Outcome:
    app_state: dict[str, Any] = {"log": []}
    linger = max(LIMITS["timeout_keep_alive"], LIMITS["timeout_request_head"]) + 1
    served = serve(
        PROTOCOLS[engine],
        config(engine),
        chunks,
        app_state=app_state,
        pauses=conversation.pauses,
        ending="linger" if conversation.ending == "goaway-frame" else conversation.ending,
        linger=linger,
    )
    return H2Outcome(served, app_state["log"])


@dataclass
class Observed:
    """What split and whole runs, and both engines, must agree on."""

    responses: dict[int, tuple[object, ...]]  # each valid request's stream, as the client saw it
    broken: Answer
    pings: list[bytes]
    cut: bool  # a connection error or a client's GOAWAY (with h2) cut what was in flight
    answered: bool  # the broken thing's answer was not cut by a client's GOAWAY (with h2)


def _answer(output: ServerOutput, stream_id: int | None) -> Answer:
    code = output.goaway_code
    if code is not None and code != NO_ERROR:
        return ("connection", code)
    view = output.streams.get(stream_id) if stream_id is not None else None
    if view is not None and view.reset is not None:
        return ("stream", view.reset)
    if view is not None and view.status is not None:
        return ("status", view.status)
    return IGNORED


def _name(answer: Answer | None) -> str:
    if answer is None or answer == IGNORED:
        return "nothing"
    kind, code = answer
    return f"{kind} {ERROR_NAMES.get(code, code) if kind != 'status' else code}"


def check(engine: str, conversation: Conversation, outcome: H2Outcome) -> Observed:
    """Assert the properties of one served conversation; return what split and whole runs share."""
    served = outcome.served
    assert_clean(served)
    protocol = served.protocol
    assert not protocol.streams and not protocol.websockets, "streams left behind"
    assert not protocol.waiting, "streams left waiting for window"
    output = read_server(served.written, conversation.limits)
    assert output.frame_types[:1] == [SETTINGS], "the server's preface is not a SETTINGS frame"

    broken = conversation.broken
    answer = _answer(output, broken.stream_id if broken is not None else None)
    failed = answer[0] == "connection"
    # A client's GOAWAY ends everything at once with h2, which stops sending when it receives one.
    goaway_cuts = (
        conversation.ending == "goaway-frame" and not PROTOCOLS[engine].engine_class.answers_after_goaway
    )
    cut = failed or goaway_cuts
    if broken is not None:
        allowed = broken.allowed(engine) | ({IGNORED} if goaway_cuts else set())
        expected = ", ".join(map(_name, allowed))
        assert answer in allowed, (
            f"{broken.name} ({broken.variant}): got {_name(answer)}, expected {expected}"
        )
        seen = [entry for entry in outcome.app_log if entry["path"].startswith(BROKEN_PATH)]
        if broken.app_sees == "never":
            assert not seen, f"{broken.name} ({broken.variant}) reached the app"
        elif broken.app_sees == "head":
            assert not any(entry["complete"] for entry in seen), "the app got a complete body"
    if failed:
        assert served.closed_by_server, "the connection stayed open after a connection error"
    else:
        assert output.goaway_code in (None, NO_ERROR), f"GOAWAY {_name(answer)}"

    # Every valid request gets its response, the echo of what it sent (a connection error may
    # cut those in flight: then whatever was sent must be the start of it).
    responses = {}
    for request in conversation.requests:
        view = output.streams.get(request.stream_id)
        expected = request.expected_body()
        if request.reset_by_client or cut:
            if view is not None and view.status is not None:
                assert view.status == 200, f"stream {request.stream_id}: status {view.status}"
                assert expected.startswith(view.body), (
                    f"stream {request.stream_id}: not the start of its echo"
                )
            continue
        assert view is not None and view.status == 200, f"stream {request.stream_id}: no response ({view})"
        assert view.reset is None, f"stream {request.stream_id} reset ({ERROR_NAMES.get(view.reset or 0)})"
        assert view.ended, f"stream {request.stream_id}: the response never ended"
        assert view.body == expected, (
            f"stream {request.stream_id}: body {view.body[:200]!r}, expected {expected[:200]!r}"
        )
        responses[request.stream_id] = view.comparable()

    if not cut:
        assert output.ping_acks == conversation.pings, "a PING without its ACK"
        assert output.settings_acks == conversation.settings_frames, "a SETTINGS frame without its ACK"
        if conversation.ending in ("linger", "goaway-frame", "half-close"):
            assert served.closed_by_server, f"the connection outlived the client's {conversation.ending}"
        if conversation.ending == "linger":
            assert output.goaways[-1:] and output.goaways[-1][1] == NO_ERROR, "no GOAWAY before an idle close"
    else:
        assert output.ping_acks == conversation.pings[: len(output.ping_acks)]
    return Observed(responses, answer, output.ping_acks, cut, not goaway_cuts)
