"""HTTP/2 clients for tests, over real sockets.

``H2Client`` drives the h2 library's client side (valid traffic, flow control
the test controls); ``RawH2`` writes hand-built frames (malformed or abusive
traffic) and reads back the server's frames as they are. Both read with a bound
(``READ_LIMIT_SECONDS``) so a server that never answers fails the test instead
of hanging it.

    async with H2Client.connect(running) as client:
        response = await client.get("/")
        assert response.status == 200
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

from tests.serving import RunningServer

READ_LIMIT_SECONDS = 30.0
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM = ACK = 0x1
END_HEADERS = 0x4

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0x7, 0x8, 0xB


async def open_connection(
    running: RunningServer, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP (or TLS, offering ALPN h2) connection to ``running``."""
    if tls is not None:
        tls.set_alpn_protocols(["h2"])
        return await asyncio.open_connection(running.host, running.port, ssl=tls, server_hostname="localhost")
    return await asyncio.open_connection(running.host, running.port)


@dataclass
class H2Response:
    """One stream's response as the client saw it."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    informational: list[tuple[int, list[tuple[bytes, bytes]]]] = field(default_factory=list)
    reset_code: int | None = None
    ended: bool = False

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


class H2Client:
    """The h2 library as a client on a real socket."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, window: int | None
    ) -> None:
        self.reader = reader
        self.writer = writer
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config)
        if window is not None:
            self.conn.local_settings = h2.settings.Settings(
                client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window}
            )
        self.conn.initiate_connection()
        self.responses: dict[int, H2Response] = {}
        self.remote_settings: dict[int, int] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.auto_acknowledge = window is None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, running: RunningServer, tls: ssl.SSLContext | None = None, window: int | None = None
    ) -> AsyncIterator[H2Client]:
        """Connected, preface sent; ``window``: the initial stream window the client grants."""
        reader, writer = await open_connection(running, tls)
        client = cls(reader, writer, window)
        try:
            await client.flush()
            yield client
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def flush(self) -> None:
        self.writer.write(self.conn.data_to_send())
        await self.writer.drain()

    async def send(
        self,
        method: str = "GET",
        path: str = "/",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        end: bool = True,
    ) -> int:
        """Open a stream with this request; its id."""
        stream_id: int = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "example.org")]
        fields += headers or []
        encoded = [(name.encode(), value.encode()) for name, value in fields]
        self.conn.send_headers(stream_id, encoded, end_stream=end and not body)
        self.responses[stream_id] = H2Response()
        await self.flush()
        if body:
            await self.send_body(stream_id, body, end)
        return stream_id

    async def send_body(self, stream_id: int, body: bytes, end: bool = True) -> None:
        """Send ``body`` as the server's windows allow, reading its WINDOW_UPDATEs meanwhile."""
        while body:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                if not await self.read_events():
                    raise ConnectionError("the server closed while the client waited for window")
                continue
            chunk, body = body[:window], body[window:]
            self.conn.send_data(stream_id, chunk, end_stream=end and not body)
            await self.flush()

    async def read_events(self) -> list[h2.events.Event]:
        """The events of the next bytes from the server ([] once it closed)."""
        data = await asyncio.wait_for(self.reader.read(65536), READ_LIMIT_SECONDS)
        if not data:
            return []
        events: list[h2.events.Event] = self.conn.receive_data(data)
        for event in events:
            self._record(event)
        await self.flush()
        return events

    def _record(self, event: h2.events.Event) -> None:
        stream_id = getattr(event, "stream_id", None)
        response = self.responses.get(stream_id) if stream_id else None
        if isinstance(event, h2.events.ResponseReceived) and response is not None:
            headers = list(event.headers)
            response.status = int(dict(headers)[b":status"])
            response.headers = [(name, value) for name, value in headers if not name.startswith(b":")]
        elif isinstance(event, h2.events.InformationalResponseReceived) and response is not None:
            headers = list(event.headers)
            status = int(dict(headers)[b":status"])
            response.informational.append((status, [(n, v) for n, v in headers if not n.startswith(b":")]))
        elif isinstance(event, h2.events.DataReceived) and response is not None:
            response.body += event.data
            if self.auto_acknowledge:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived) and response is not None:
            response.trailers = list(event.headers)
        elif isinstance(event, h2.events.StreamEnded) and response is not None:
            response.ended = True
        elif isinstance(event, h2.events.StreamReset) and response is not None:
            response.reset_code = int(event.error_code)
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in event.changed_settings.items():
                self.remote_settings[int(code)] = setting.new_value
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    async def response(self, stream_id: int) -> H2Response:
        """Read until ``stream_id`` ends or is reset (or the connection closes)."""
        response = self.responses[stream_id]
        while not response.ended and response.reset_code is None:
            if not await self.read_events():
                break
        return response

    async def get(self, path: str = "/", **options: Any) -> H2Response:
        return await self.response(await self.send("GET", path, **options))

    async def settings(self) -> dict[int, int]:
        """The server's SETTINGS (read until they have arrived)."""
        while not self.remote_settings:
            if not await self.read_events():
                break
        return self.remote_settings


def frame(frame_type: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame (RFC 9113 4.1)."""
    return (
        len(payload).to_bytes(3, "big") + bytes([frame_type, flags]) + stream_id.to_bytes(4, "big") + payload
    )


@dataclass
class Frame:
    type: int
    flags: int
    stream_id: int
    payload: bytes

    @property
    def error_code(self) -> int:
        """The error code of a RST_STREAM or GOAWAY frame."""
        return int.from_bytes(self.payload[-4:] if self.type == RST_STREAM else self.payload[4:8], "big")


class RawH2:
    """Hand-built frames over a real socket, and the server's frames as read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = hpack.Encoder()
        self.frames: list[Frame] = []
        self._buffer = b""

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, running: RunningServer, tls: ssl.SSLContext | None = None) -> AsyncIterator[RawH2]:
        """Connected, with the preface and an empty SETTINGS frame sent."""
        reader, writer = await open_connection(running, tls)
        client = cls(reader, writer)
        try:
            await client.send(PREFACE + frame(SETTINGS, 0, 0))
            yield client
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def headers(
        self,
        stream_id: int,
        fields: list[tuple[str, str]] | None = None,
        *,
        end_stream: bool = True,
        end_headers: bool = True,
        extra: list[tuple[str, str]] | None = None,
    ) -> bytes:
        """A HEADERS frame: a GET of ``/`` unless ``fields`` is given, ``extra`` appended."""
        if fields is None:
            fields = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "example.org")]
        block = self.encoder.encode([*fields, *(extra or [])])
        flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        return frame(HEADERS, flags, stream_id, block)

    async def read_frame(self) -> Frame | None:
        """The next frame from the server, or None once it closed the connection."""
        while len(self._buffer) < 9 or len(self._buffer) < 9 + int.from_bytes(self._buffer[:3], "big"):
            try:
                data = await asyncio.wait_for(self.reader.read(65536), READ_LIMIT_SECONDS)
            except (ConnectionError, ssl.SSLError):
                data = b""
            if not data:
                return None
            self._buffer += data
        length = int.from_bytes(self._buffer[:3], "big")
        head, self._buffer = self._buffer[: 9 + length], self._buffer[9 + length :]
        found = Frame(head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, head[9:])
        self.frames.append(found)
        return found

    async def read_until(self, frame_type: int, stream_id: int | None = None) -> Frame | None:
        """Read until a frame of this type (on this stream) arrives; None if the server closed first."""
        while True:
            found = await self.read_frame()
            if found is None or (found.type == frame_type and stream_id in (None, found.stream_id)):
                return found

    async def goaway_and_close(self) -> int:
        """The error code of the server's GOAWAY; asserts the connection is then closed."""
        goaway = await self.read_until(GOAWAY)
        assert goaway is not None, "the server closed without GOAWAY"
        while await self.read_frame() is not None:
            pass
        return goaway.error_code
