"""MessageLoggerMiddleware: one TRACE record per ASGI event, payloads shown by size."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.middleware.harness import RequestFeed, ResponseRecorder, http_scope
from uvicorn.middleware.message_logger import (
    TRACE_LOG_LEVEL,
    MessageLoggerMiddleware,
    message_with_placeholders,
)


@pytest.fixture
def trace(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(TRACE_LOG_LEVEL, logger="uvicorn.asgi"):
        yield caplog


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "uvicorn.asgi"]


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": message["body"]})


async def test_every_message_is_traced_with_placeholders(trace: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=MessageLoggerMiddleware(_echo), client=("192.0.2.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/", content=b"twelve bytes")
    assert response.text == "twelve bytes"

    messages = _messages(trace)
    assert len(messages) == 5
    assert messages[0].startswith("192.0.2.1:5555 - ASGI [1] Started scope={")
    assert "'headers': '<...>'" in messages[0]
    assert "'path': '/'" in messages[0]
    assert messages[1].startswith(
        "192.0.2.1:5555 - ASGI [1] Receive {'type': 'http.request', 'body': '<12 bytes>', 'more_body': "
    )
    assert messages[2] == (
        "192.0.2.1:5555 - ASGI [1] Send {'type': 'http.response.start', 'status': 200, 'headers': '<...>'}"
    )
    assert (
        messages[3] == "192.0.2.1:5555 - ASGI [1] Send {'type': 'http.response.body', 'body': '<12 bytes>'}"
    )
    assert messages[4] == "192.0.2.1:5555 - ASGI [1] Completed"
    assert all(record.levelno == TRACE_LOG_LEVEL and record.levelname == "TRACE" for record in trace.records)


async def test_calls_are_numbered_and_a_missing_client_has_no_prefix(
    trace: pytest.LogCaptureFixture,
) -> None:
    middleware = MessageLoggerMiddleware(_echo)
    for _ in range(2):
        await middleware(http_scope(client=None), RequestFeed([b""]), ResponseRecorder())
    messages = _messages(trace)
    assert messages[0].startswith("ASGI [1] Started scope=")
    assert messages[5].startswith("ASGI [2] Started scope=")
    assert messages[9] == "ASGI [2] Completed"


async def test_an_exception_is_traced_with_its_traceback_and_reraised(
    trace: pytest.LogCaptureFixture,
) -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        await MessageLoggerMiddleware(failing)(http_scope(), RequestFeed(), ResponseRecorder())
    last = trace.records[-1]
    assert last.getMessage() == "127.0.0.1:50000 - ASGI [1] Raised exception"
    assert last.exc_info is not None and isinstance(last.exc_info[1], LookupError)
    assert "Completed" not in " ".join(_messages(trace))


async def test_nothing_is_formatted_when_trace_is_off(caplog: pytest.LogCaptureFixture) -> None:
    sizes: list[int] = []

    class Body(bytes):
        def __len__(self) -> int:
            sizes.append(1)
            return super().__len__()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": Body(b"x")})

    with caplog.at_level(logging.DEBUG, logger="uvicorn.asgi"):
        await MessageLoggerMiddleware(app)(http_scope(), RequestFeed(), ResponseRecorder())
    assert caplog.records == []
    assert sizes == []


def test_placeholders_cover_websocket_payloads_and_keep_other_keys() -> None:
    message = {"type": "websocket.send", "bytes": b"\x00\x01", "text": "héllo", "extra": 1}
    assert message_with_placeholders(message) == {
        "type": "websocket.send",
        "bytes": "<2 bytes>",
        "text": "<5 chars>",
        "extra": 1,
    }
    assert message == {"type": "websocket.send", "bytes": b"\x00\x01", "text": "héllo", "extra": 1}
    # Headers may be any iterable, even one without a length.
    assert message_with_placeholders({"headers": iter([])})["headers"] == "<...>"
