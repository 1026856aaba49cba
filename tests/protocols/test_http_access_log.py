"""Access lines written in batches must be the very lines ``logging`` would write."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.protocols.apps import hello, send_response
from tests.protocols.raw_http import RawClient, request
from tests.serving import serve
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.logging import LOGGING_CONFIG, AccessFormatter


class CountingStream(io.StringIO):
    """A stream that remembers how many writes it got."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class AccessSetup:
    """The default setup (one StreamHandler, AccessFormatter) writing to a stream we can read."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("uvicorn.access")
        self.stream = CountingStream()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(
            AccessFormatter(LOGGING_CONFIG["formatters"]["access"]["fmt"], use_colors=False)
        )

    def install(self) -> None:
        # Called in the test body: pytest adds its capture handlers before the test runs.
        self.logger.handlers = [self.handler]
        self.logger.propagate = False
        self.logger.filters = []
        self.logger.setLevel(logging.INFO)


@pytest.fixture
def access() -> Iterator[AccessSetup]:
    setup = AccessSetup()
    logger = setup.logger
    saved = (logger.handlers, logger.propagate, logger.filters, logger.level)
    yield setup
    logger.handlers, logger.propagate, logger.filters = saved[:3]
    logger.setLevel(saved[3])


def expected_line(client: str, path: str, status: int = 200) -> str:
    formatter = AccessFormatter(LOGGING_CONFIG["formatters"]["access"]["fmt"], use_colors=False)
    args = (client, "GET", path, "1.1", status)
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None)
    return formatter.format(record) + "\n"


async def test_batched_lines_are_the_lines_logging_writes(http: str, access: AccessSetup) -> None:
    paths = [f"/p{index}?q=a%20b" for index in range(40)]
    access.install()
    limits = httpx.Limits(max_connections=20)
    async with (
        serve(hello, http=http, lifespan="off", log_config=None) as running,
        httpx.AsyncClient(base_url=running.url, limits=limits) as client,
    ):
        responses = await asyncio.gather(*(client.get(path) for path in paths))
    assert all(response.status_code == 200 for response in responses)
    lines = access.stream.getvalue().splitlines(keepends=True)
    assert sorted(line.split('"')[1] for line in lines) == sorted(f"GET {path} HTTP/1.1" for path in paths)
    for line in lines:
        client_addr = line.split()[1]
        assert client_addr.startswith("127.0.0.1:")
        assert line == expected_line(client_addr, line.split('"')[1].split()[1])
    assert access.stream.writes < len(lines)  # several lines per write


async def test_a_filtered_logger_still_goes_through_logging(http: str, access: AccessSetup) -> None:
    logger = logging.getLogger("uvicorn.access")

    def only_errors(record: logging.LogRecord) -> bool:
        return record.args[-1] >= 400  # type: ignore[index,operator]

    access.install()
    logger.filters = [only_errors]  # the fixture restores the list
    async with (
        serve(hello, http=http, lifespan="off", log_config=None) as running,
        httpx.AsyncClient(base_url=running.url) as client,
    ):
        assert (await client.get("/")).status_code == 200
    assert access.stream.getvalue() == ""


async def test_a_repeated_request_gets_its_own_line_each_time(http: str, access: AccessSetup) -> None:
    """A keep-alive client repeating itself reuses the previous line's text, never loses a line."""
    answered: list[str] = []

    async def app(scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        # /flip answers 200, then 404: the same request line with another status.
        status = 404 if scope["path"] == "/flip" and "/flip" in answered else 200
        answered.append(scope["path"])
        await send_response(send, status, b"")

    requests = ["/same", "/same", "/same?x=1", "/same?x=1", "/other", "/same", "/flip", "/flip"]
    access.install()
    async with (
        serve(app, http=http, lifespan="off", log_config=None) as running,
        httpx.AsyncClient(base_url=running.url) as client,  # one connection, reused
    ):
        for path in requests:
            await client.get(path)
    lines = access.stream.getvalue().splitlines(keepends=True)
    client_addr = lines[0].split()[1]
    statuses = [200] * 7 + [404]
    assert lines == [
        expected_line(client_addr, path, status) for path, status in zip(requests, statuses, strict=True)
    ]


async def test_a_new_formatter_takes_effect_at_the_next_line(http: str, access: AccessSetup) -> None:
    access.install()
    async with (
        serve(hello, http=http, lifespan="off", log_config=None) as running,
        httpx.AsyncClient(base_url=running.url) as client,
    ):
        assert (await client.get("/same")).status_code == 200
        access.handler.setFormatter(
            AccessFormatter(LOGGING_CONFIG["formatters"]["access"]["fmt"], use_colors=True)
        )
        assert (await client.get("/same")).status_code == 200
    plain, coloured = access.stream.getvalue().splitlines()
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert plain.split('"')[1] == "GET /same HTTP/1.1"


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/one%2Ftwo", "/one%2Ftwo"),
        ("/%41", "/%41"),
        ("/caf%C3%A9?q=%2F&r=a%20b", "/caf%C3%A9?q=%2F&r=a%20b"),
        ('/foo"bar?a"b', "/foo%22bar?a%22b"),
    ],
)
async def test_the_line_shows_the_raw_target_with_quotes_escaped(
    http: str, access: AccessSetup, target: str, shown: str
) -> None:
    """As 0.55: the target as sent (never decoded), and '"' as %22 so the quoted request line stays whole."""
    if http == "zttp" and '"' in target:
        pytest.skip("zttp refuses a '\"' in the request target (400), as upstream's zttp does")
    access.install()
    async with (
        serve(hello, http=http, lifespan="off", log_config=None) as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", target))
        assert (await client.read_response()).status == 200
    (line,) = access.stream.getvalue().splitlines(keepends=True)
    assert line == expected_line(line.split()[1], shown)


async def test_the_root_path_is_part_of_the_raw_target(http: str, access: AccessSetup) -> None:
    access.install()
    async with (
        serve(hello, http=http, lifespan="off", log_config=None, root_path="/api") as running,
        RawClient.connect(running) as client,
    ):
        await client.send(request("GET", "/a%2Fb"))
        assert (await client.read_response()).status == 200
    assert '"GET /api/a%2Fb HTTP/1.1"' in access.stream.getvalue()
