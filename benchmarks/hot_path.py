"""The per-request Python cost of an HTTP protocol, measured in-process without sockets.

``python -m benchmarks.hot_path [--server ours|raw] [--requests N] [--profile]``

Builds the server's httptools protocol from a real ``uvicorn.Config`` (the
hello app, access log off unless ``--access-log``, metrics off unless
``--metrics``: what ``--admin-port`` adds per request), gives it a stand-in
transport that keeps nothing, and drives ``--connections`` keep-alive
connections on a real uvloop loop: one request on each, then the loop runs
until every response is written, over and over. What it reports, in
microseconds per request, is everything the server does between
``data_received`` and ``transport.write`` (the parser, the scope, the task,
the app's ``receive``/``send``, the response head, the loop's own work), and
none of the kernel's: on this path the kernel's read and write are the same
for every server, and the raw ceiling (``--server raw``: httptools writing a
canned response) shows what is left when the Python path is as short as it
can be.

It runs under any interpreter that has uvicorn, httptools and uvloop: the
upstream venv's (``benchmarks/.work/uvicorn-0.55.0/bin/python -m
benchmarks.hot_path``) measures upstream the same way. ``--src DIR`` puts a
scratch copy of the packages' sources first on ``sys.path``, to estimate an
optimisation before it is written for real. ``--profile`` adds cProfile's
top functions with their calls per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
HELLO_BODY = b"Hello, world!\n"


class StubTransport:
    """Just enough of an asyncio transport for an HTTP protocol; counts finished responses."""

    def __init__(self, on_response: Callable[[], None]) -> None:
        self._on_response = on_response
        self._extra = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}

    def write(self, data: bytes) -> None:
        if data.endswith(HELLO_BODY):
            self._on_response()

    def writelines(self, pieces: list[bytes]) -> None:
        self.write(b"".join(pieces))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass  # only idle connections of an earlier repeat are closed, by their keep-alive timer

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    # The same app as benchmarks.apps.hello, without lifespan (the harness has none).
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"14")],
        }
    )
    await send({"type": "http.response.body", "body": HELLO_BODY})


def _uvicorn_factory(access_log: bool, proxy_headers: bool, metrics: bool) -> Callable[[], asyncio.Protocol]:
    import uvicorn
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    config = Config(
        _hello,
        http="httptools",
        loop="none",
        lifespan="off",
        access_log=access_log,
        proxy_headers=proxy_headers,
        timeout_keep_alive=3600,
    )
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT"), *config.encoded_headers]
    if metrics:
        # What --admin-port puts in the protocols' way (the listener itself is a thread, idle here).
        from uvicorn._metrics import ServerMetrics

        state.observer = ServerMetrics()
    print(f"uvicorn {getattr(uvicorn, '__version__', '?')} from {Path(uvicorn.__file__).parent}")
    protocol_class = config.http_protocol_class
    return lambda: protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]


def _raw_factory() -> Callable[[], asyncio.Protocol]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # also when run as a script
    from benchmarks.raw_server import Canned, RawProtocol

    canned = Canned(asyncio.get_running_loop())
    print("raw ceiling: httptools + a canned response (benchmarks/raw_server.py)")
    return lambda: RawProtocol(canned)


async def _drive(make: Callable[[], asyncio.Protocol], connections: int, rounds: int) -> float:
    """Run ``rounds`` of one request per connection; return the CPU seconds they took."""
    loop = asyncio.get_running_loop()
    waiting = 0
    done: asyncio.Future[None] = loop.create_future()

    def on_response() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            done.set_result(None)

    protocols = []
    for _ in range(connections):
        protocol = make()
        protocol.connection_made(StubTransport(on_response))  # type: ignore[arg-type]
        protocols.append(protocol)
    started = time.process_time()
    for _ in range(rounds):
        waiting = connections
        done = loop.create_future()
        for protocol in protocols:
            protocol.data_received(REQUEST)
        await done
    return time.process_time() - started


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hot_path", description="per-request Python cost of an HTTP protocol"
    )
    parser.add_argument("--server", choices=["uvicorn", "raw"], default="uvicorn")
    parser.add_argument("--src", type=Path, action="append", default=[], help="put DIR first on sys.path")
    parser.add_argument("--requests", type=int, default=200_000, help="requests per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="the best repeat is reported")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--access-log", action="store_true", help="with the access log (to a null handler)")
    parser.add_argument("--no-proxy-headers", action="store_true", help="without ProxyHeadersMiddleware")
    parser.add_argument("--metrics", action="store_true", help="with --admin-port's metrics (ours only)")
    parser.add_argument("--profile", action="store_true", help="cProfile one repeat and print the top")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    for directory in reversed(args.src):
        sys.path.insert(0, str(directory.resolve()))
    import uvloop

    async def run() -> None:
        if args.server == "raw":
            make = _raw_factory()
        else:
            make = _uvicorn_factory(args.access_log, not args.no_proxy_headers, args.metrics)
        rounds = max(args.requests // args.connections, 1)
        total = rounds * args.connections
        await _drive(make, args.connections, max(rounds // 10, 1))  # warm-up
        costs = []
        for _ in range(args.repeats):
            gc.collect()
            costs.append(await _drive(make, args.connections, rounds) / total * 1e6)
        print(f"python {sys.version.split()[0]}: best {min(costs):.2f} us/request, all {costs}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await _drive(make, args.connections, rounds)
            profiler.disable()
            output = io.StringIO()
            stats = pstats.Stats(profiler, stream=output).sort_stats("tottime")
            stats.print_stats(25)
            print(output.getvalue())
            print(f"(calls are for {total} requests)")

    uvloop.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
