"""WSGIMiddleware: start_response, write(), streaming with backpressure, close() and errors."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from tests.middleware.harness import RequestFeed, ResponseRecorder, http_scope
from uvicorn.middleware import wsgi
from uvicorn.middleware._wsgi_channel import DEFAULT_HIGH_WATER, WorkerChannel
from uvicorn.middleware.wsgi import FileWrapper, WSGIMiddleware, WSGIProtocolError


async def run_wsgi(app: Any, send: Any = None) -> Any:
    """Serve one GET with ``app``; returns ``send`` (a new ResponseRecorder by default)."""
    recorder = send or ResponseRecorder()
    await WSGIMiddleware(app)(http_scope(), RequestFeed(), recorder)
    return recorder


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("X-Caf\u00e9", "cr\u00e8me")])
    return [b"Hello, ", b"world"]


async def test_a_list_response_ends_with_its_last_chunk() -> None:
    recorder = await run_wsgi(hello)
    assert recorder.messages == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"x-caf\xe9", b"cr\xe8me")],
        },
        {"type": "http.response.body", "body": b"Hello, ", "more_body": True},
        {"type": "http.response.body", "body": b"world", "more_body": False},
    ]


async def test_an_empty_response() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("304 Not Modified", [])
        return []

    recorder = await run_wsgi(app)
    assert recorder.status == 304
    assert recorder.body == b""
    assert recorder.complete


async def test_a_generator_response_skips_empty_chunks() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes | bytearray]:
        start_response("200 OK", [])
        yield b""
        yield b"a"
        yield bytearray(b"b")
        yield b""

    recorder = await run_wsgi(app)
    assert [m.get("body") for m in recorder.messages] == [None, b"a", b"b", b""]
    assert recorder.complete


async def test_start_response_may_come_with_the_first_chunk() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("201 Created", [])
        yield b"made"

    recorder = await run_wsgi(app)
    assert (recorder.status, recorder.body) == (201, b"made")


async def test_write_callable_and_iterable_are_sent_in_order() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        write = start_response("200 OK", [])
        write(b"one ")
        write(b"")
        yield b"two "
        write(b"three")

    recorder = await run_wsgi(app)
    assert recorder.body == b"one two three"
    assert recorder.complete


async def test_file_wrapper_streams_and_closes_the_file(tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 100)
    files: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        files.append(path.open("rb"))
        return environ["wsgi.file_wrapper"](files[0], 1000)

    recorder = await run_wsgi(app)
    assert recorder.body == bytes(range(256)) * 100
    assert len([m for m in recorder.messages if m.get("body")]) == 26
    assert files[0].closed
    assert not hasattr(FileWrapper(iter([]), 1), "close")  # type: ignore[arg-type]


# ---------------------------------------------------------------- close()


class ClosingBody:
    """A response iterable that records whether the server closed it."""

    def __init__(self, chunks: list[Any], fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise ValueError("broken halfway")
            yield chunk

    def close(self) -> None:
        self.closed.set()


def returning(body: Any, status: object = "200 OK") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, [])
        return body

    return app


async def test_close_is_called_after_a_complete_response() -> None:
    body = ClosingBody([b"a", b"b"])
    recorder = await run_wsgi(returning(body))
    assert recorder.body == b"ab"
    assert body.closed.is_set()


async def test_close_is_called_when_iteration_fails() -> None:
    body = ClosingBody([b"a", b"b"], fail_at=1)
    recorder = ResponseRecorder()
    with pytest.raises(ValueError, match="broken halfway"):
        await run_wsgi(returning(body), recorder)
    assert body.closed.is_set()
    # The response had started, so the server must drop the connection: it is not complete.
    assert recorder.body == b"a"
    assert not recorder.complete


async def test_close_is_called_when_the_client_goes_away() -> None:
    body = ClosingBody([b"x" * DEFAULT_HIGH_WATER] * 20)

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        await run_wsgi(returning(body), send)
    assert await asyncio.to_thread(body.closed.wait, 30)


# ---------------------------------------------------------------- streaming and backpressure


async def test_the_response_streams_while_the_app_produces_it() -> None:
    first_chunk_sent = threading.Event()
    saw_it: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"early"
        # A bridge that buffered the whole response would never get here first.
        saw_it.append(first_chunk_sent.wait(timeout=30))
        yield b"late"

    class Send(ResponseRecorder):
        async def __call__(self, message: MutableMapping[str, Any]) -> None:
            await super().__call__(message)
            if message.get("body") == b"early":
                first_chunk_sent.set()

    recorder = await run_wsgi(app, Send())
    assert saw_it == [True]
    assert recorder.body == b"earlylate"


async def test_a_slow_client_holds_the_app_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set when the worker has to wait for the client, or when the app is done.
    stopped = threading.Event()

    class WatchedChannel(WorkerChannel):
        def _wait_for_room(self) -> None:
            stopped.set()
            super()._wait_for_room()

    monkeypatch.setattr(wsgi, "WorkerChannel", WatchedChannel)
    chunk = b"z" * (16 * 1024)
    total = 200  # 3.2 MiB
    produced = 0
    finished = False

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        nonlocal produced, finished
        start_response("200 OK", [])
        for _ in range(total):
            produced += 1
            yield chunk
        finished = True
        stopped.set()

    sent = 0
    ahead: list[int] = []

    async def slow_send(message: MutableMapping[str, Any]) -> None:
        nonlocal sent
        if message.get("body"):
            # Each time, let the app run as far ahead as it can before this chunk goes out.
            assert await asyncio.to_thread(stopped.wait, 60)
            if not finished:  # the worker is parked until this send returns
                stopped.clear()
            sent += 1
            ahead.append(produced - sent)

    await run_wsgi(app, slow_send)
    assert sent == total
    # Never more than the high-water mark of unsent bytes, plus the chunk in hand.
    assert 1 < max(ahead) <= DEFAULT_HIGH_WATER // len(chunk) + 1


# ---------------------------------------------------------------- exc_info


async def test_exc_info_before_the_headers_went_out_replaces_them() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        try:
            raise KeyError("lost")
        except KeyError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"sorry"]

    recorder = await run_wsgi(app)
    assert recorder.status == 500
    assert recorder.headers == [(b"content-type", b"text/plain")]
    assert recorder.body == b"sorry"


async def test_exc_info_after_the_headers_went_out_reraises() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        try:
            raise KeyError("lost")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        yield b"never"

    recorder = ResponseRecorder()
    with pytest.raises(KeyError, match="lost"):
        await run_wsgi(app, recorder)
    assert recorder.body == b"partial"
    assert not recorder.complete


# ---------------------------------------------------------------- errors


async def test_an_exception_before_the_response_reaches_the_server() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("app bug")

    recorder = ResponseRecorder()
    with pytest.raises(RuntimeError, match="app bug"):
        await run_wsgi(app, recorder)
    assert recorder.messages == []  # the server answers 500


async def test_an_exception_after_start_response_but_before_the_body_sends_nothing() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        raise RuntimeError("app bug")
        yield b""

    recorder = ResponseRecorder()
    with pytest.raises(RuntimeError, match="app bug"):
        await run_wsgi(app, recorder)
    assert recorder.messages == []


def twice(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    start_response("404 Not Found", [])
    return [b""]


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (twice, "start_response() was called a second time without exc_info"),
        (returning(None), "the WSGI application returned 'NoneType', which is not iterable"),
        (returning(42), "the WSGI application returned 'int', which is not iterable"),
        (returning(b"body"), "the WSGI application returned a bytes instead of an iterable of bytes"),
        (returning("body"), "the WSGI application returned a str instead of an iterable of bytes"),
        (
            returning(["text"]),
            "the WSGI application produced a str body chunk; response bodies must be bytes",
        ),
        (returning(iter(["text"])), "the WSGI application produced a str body chunk"),
        (returning([b"ok", 7]), "the WSGI application produced a int body chunk"),
        (
            lambda environ, start_response: [b"no status"],
            "did not call start_response() before its response body",
        ),
        (lambda environ, start_response: iter([]), "did not call start_response() before its response body"),
        (returning([b""], status="OK"), "start_response() got the status 'OK'"),
        (returning([b""], status="20 OK"), "start_response() got the status '20 OK'"),
        (returning([b""], status=200), "start_response() got the status 200"),
    ],
)
async def test_broken_wsgi_apps_get_a_500_and_one_clear_log_line(
    app: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        recorder = await run_wsgi(app)
    assert recorder.status == 500
    assert recorder.body == b"Internal Server Error"
    assert recorder.complete
    [record] = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert record.getMessage().startswith('WSGI protocol error in "GET /": ')
    assert message in record.getMessage()
    assert record.exc_info is None


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Bad", "a\r\nInjected: yes")],
        [("X-Bad", 1)],
        [(b"X-Bad", "1")],
        [("X-Bad", "\u20ac")],
        ["X-Bad"],
        None,
    ],
)
async def test_invalid_headers_get_a_500(headers: Any, caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [b"unsent"]

    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        recorder = await run_wsgi(app)
    assert recorder.status == 500
    assert "start_response() got the headers" in caplog.records[-1].getMessage()


async def test_a_str_chunk_after_the_response_started_aborts_it() -> None:
    recorder = ResponseRecorder()
    with pytest.raises(WSGIProtocolError, match="produced a str body chunk"):
        await run_wsgi(returning(iter([b"bytes first", "then text"])), recorder)
    assert recorder.body == b"bytes first"
    assert not recorder.complete


async def test_only_http_scopes_are_served() -> None:
    with pytest.raises(RuntimeError, match="only serves 'http' scopes, not 'lifespan'"):
        await WSGIMiddleware(hello)({"type": "lifespan"}, RequestFeed(), ResponseRecorder())


# ---------------------------------------------------------------- the thread pool


async def test_requests_run_in_a_pool_of_the_given_size() -> None:
    threads: set[int] = set()
    pairs = threading.Barrier(2)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        threads.add(threading.get_ident())
        pairs.wait(timeout=30)  # requests meet in twos, so two threads are always busy together
        start_response("200 OK", [])
        return [b"ok"]

    middleware = WSGIMiddleware(app, workers=2)
    recorders = [ResponseRecorder() for _ in range(6)]
    await asyncio.gather(*(middleware(http_scope(), RequestFeed(), recorder) for recorder in recorders))
    assert [recorder.body for recorder in recorders] == [b"ok"] * 6
    assert len(threads) == 2


async def test_each_500_is_a_fresh_message() -> None:
    # Middleware around us may add headers to a message in place.
    async def add_header(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"].append((b"x-added", b"1"))
            starts.append(list(message["headers"]))

    starts: list[list[tuple[bytes, bytes]]] = []
    middleware = WSGIMiddleware(returning(None))
    for _ in range(2):
        await middleware(http_scope(), RequestFeed(), add_header)
    assert starts[0] == starts[1]
    assert starts[1].count((b"x-added", b"1")) == 1


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST_ID")


async def test_the_app_runs_in_the_request_context() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [REQUEST_ID.get("unset").encode()]

    REQUEST_ID.set("req-42")
    recorder = await run_wsgi(app)
    assert recorder.body == b"req-42"
