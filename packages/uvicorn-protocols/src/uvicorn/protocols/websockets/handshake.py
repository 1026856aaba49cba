"""The WebSocket opening handshake request, checked once for every library and carrier.

The HTTP protocol hands over the request it parsed (method, target, version,
header list): :func:`check_http1_request` checks it against RFC 6455 section
4.2.1 and returns a :class:`HandshakeRequest`, or raises :class:`HandshakeError`
with the answer the client gets. :func:`read_request` does the same from raw bytes
(for a WebSocket protocol fed the request through ``data_received``), and
:func:`check_extended_connect` for an HTTP/2 stream (RFC 8441).

Requests the ``websockets`` library could not parse are answered as it answers
them (and as upstream uvicorn 0.55 does): a request line over 8 KiB gets ``414``,
a header line over 8 KiB or more than 128 header fields ``431``, a request with a
body ``400``. A protocol version other than 13 gets ``426`` with
``Sec-WebSocket-Version: 13``; any other fault ``400``. Never a ``101``.
"""

from __future__ import annotations

import binascii
import hashlib
from base64 import b64decode, b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from uvicorn.protocols.http.request_head import HeadProblem, decode_path, split_target
from uvicorn.protocols.http.rules import CONTROL_CHARACTER, TOKEN, comma_list

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import WebSocketScope

__all__ = [
    "MAX_HEAD_SIZE",
    "HandshakeError",
    "HandshakeRequest",
    "accept_key",
    "check_extended_connect",
    "check_http1_request",
    "checked_headers",
    "read_request",
]

#: The most bytes we wait for while looking for the end of a request head (raw entry).
MAX_HEAD_SIZE = 65536
#: The websockets library's limits on a handshake request, which upstream answers with 414/431.
MAX_LINE_LENGTH = 8192
MAX_HEADERS = 128

_VERSION_HEADER = (b"sec-websocket-version", b"13")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_UNPARSEABLE = "Failed to open a WebSocket connection: invalid request."


class HandshakeError(Exception):
    """A handshake request we refuse: the status, a one-line message and extra headers.

    ``unparseable`` marks a request the websockets library would not have read at
    all (limits, a body), as opposed to a readable request that breaks RFC 6455.
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: tuple[tuple[bytes, bytes], ...] = (),
        unparseable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
        self.unparseable = unparseable


@dataclass
class HandshakeRequest:
    """A valid opening handshake: what the ASGI scope, the carrier and the codecs need from it."""

    method: str
    target: bytes  # as the client sent it
    http_version: str  # "1.1", or "2" for an extended CONNECT
    path: str  # percent-decoded, without the root path
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]  # names lowercased, in order
    subprotocols: list[str]
    key: bytes | None  # Sec-WebSocket-Key (HTTP/1.1 only)
    extension_offers: list[bytes]  # the Sec-WebSocket-Extensions values, in order

    def scope(
        self,
        asgi_version: Literal["2.0", "3.0"],
        scheme: str,
        server: tuple[str, int | None] | None,
        client: tuple[str, int] | None,
        root_path: str,
        state: dict[str, Any],
    ) -> WebSocketScope:
        """The ASGI scope of this connection (the path fields start with ``root_path``)."""
        return {
            "type": "websocket",
            "asgi": {"version": asgi_version, "spec_version": "2.4"},
            "http_version": self.http_version,
            "scheme": scheme,
            "server": server,
            "client": client,
            "root_path": root_path,
            "path": root_path + self.path,
            "raw_path": root_path.encode("ascii", "surrogateescape") + self.raw_path,
            "query_string": self.query_string,
            "headers": self.headers,
            "subprotocols": self.subprotocols,
            "state": state,
            "extensions": {"websocket.http.response": {}},
        }


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    return b64encode(hashlib.sha1(key + _GUID).digest())


def check_http1_request(
    method: str, target: bytes, http_version: str, headers: list[tuple[bytes, bytes]]
) -> HandshakeRequest:
    """Check an HTTP/1.1 upgrade request; raises :class:`HandshakeError` with the answer."""
    if len(method) + len(target) + len(http_version) + 9 > MAX_LINE_LENGTH:
        raise HandshakeError(414, f"{_UNPARSEABLE[:-1]}: request line too long.", unparseable=True)
    fields = _Fields(headers)
    if method != "GET":
        raise HandshakeError(400, "WebSocket handshake requests must use the GET method.")
    if http_version != "1.1":
        # RFC 6455 4.1: HTTP/1.1 or higher; an HTTP/1.0 client cannot hold the connection.
        raise HandshakeError(400, "WebSocket handshake requests must use HTTP/1.1.")
    if fields.hosts != 1:
        raise HandshakeError(400, "WebSocket handshake requests need exactly one Host header.")
    if not fields.connection_upgrade:
        raise HandshakeError(400, "Missing 'Connection: Upgrade' header.")
    if not fields.upgrade_websocket:
        raise HandshakeError(400, "Missing 'Upgrade: websocket' header.")
    fields.check_version()
    if not fields.keys:
        raise HandshakeError(400, "Missing Sec-WebSocket-Key header.")
    if len(fields.keys) > 1:
        raise HandshakeError(400, "More than one Sec-WebSocket-Key header.")
    if not _valid_key(fields.keys[0]):
        raise HandshakeError(400, "Invalid Sec-WebSocket-Key header: it must be 16 bytes in base64.")
    return fields.request(method, target, http_version, fields.keys[0])


def check_extended_connect(
    method: str, protocol: str, target: bytes, headers: list[tuple[bytes, bytes]], http_version: str = "2"
) -> HandshakeRequest:
    """Check an HTTP/2 extended CONNECT (RFC 8441 4-5): ``:method``, ``:protocol``, ``:path``.

    ``headers`` are the regular fields (no pseudo-headers). There is no key and no
    Upgrade/Connection negotiation: the stream itself is the tunnel.
    """
    if method != "CONNECT" or protocol != "websocket":
        raise HandshakeError(400, "WebSocket over HTTP/2 needs CONNECT with :protocol websocket.")
    fields = _Fields(headers)
    fields.check_version()
    return fields.request(method, target, http_version, None)


class _Fields:
    """One pass over the header list, collecting what the handshake checks need."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        if len(headers) > MAX_HEADERS:
            raise HandshakeError(431, f"{_UNPARSEABLE[:-1]}: too many headers.", unparseable=True)
        self.headers = headers
        self.hosts = 0
        self.connection_upgrade = self.upgrade_websocket = False
        self.keys: list[bytes] = []
        self.versions: list[bytes] = []
        self.subprotocols: list[str] = []
        self.extension_offers: list[bytes] = []
        for name, value in headers:
            if len(name) + len(value) + 4 > MAX_LINE_LENGTH:
                raise HandshakeError(431, f"{_UNPARSEABLE[:-1]}: header line too long.", unparseable=True)
            if name == b"host":
                self.hosts += 1
            elif name == b"connection":
                self.connection_upgrade = self.connection_upgrade or b"upgrade" in comma_list(value)
            elif name == b"upgrade":
                self.upgrade_websocket = self.upgrade_websocket or b"websocket" in comma_list(value)
            elif name == b"sec-websocket-key":
                self.keys.append(value)
            elif name == b"sec-websocket-version":
                self.versions.append(value)
            elif name == b"sec-websocket-protocol":
                self.subprotocols += [t.decode("latin-1") for t in comma_list(value, lower=False) if t]
            elif name == b"sec-websocket-extensions":
                self.extension_offers.append(value)
            elif name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
                raise HandshakeError(400, _UNPARSEABLE, unparseable=True)  # a handshake has no body

    def check_version(self) -> None:
        if not self.versions:
            raise HandshakeError(400, "Missing Sec-WebSocket-Version header.", (_VERSION_HEADER,))
        if self.versions != [b"13"]:
            raise HandshakeError(
                426, "Unsupported Sec-WebSocket-Version: this server speaks version 13.", (_VERSION_HEADER,)
            )

    def request(self, method: str, target: bytes, http_version: str, key: bytes | None) -> HandshakeRequest:
        try:
            raw_path, query_string = split_target(target)
        except HeadProblem as problem:
            raise HandshakeError(problem.status, problem.message) from None
        return HandshakeRequest(
            method=method,
            target=target,
            http_version=http_version,
            path=decode_path(raw_path),
            raw_path=raw_path,
            query_string=query_string,
            headers=self.headers,
            subprotocols=self.subprotocols,
            key=key,
            extension_offers=self.extension_offers,
        )


def read_request(head: bytes) -> HandshakeRequest:
    """Parse and check a complete HTTP/1.1 request head (ending with the blank line)."""
    lines = head[:-4].split(b"\r\n")
    if len(lines[0]) + 2 > MAX_LINE_LENGTH:
        raise HandshakeError(414, f"{_UNPARSEABLE[:-1]}: request line too long.", unparseable=True)
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2][:5] != b"HTTP/" or TOKEN.fullmatch(parts[0]) is None:
        raise HandshakeError(400, _UNPARSEABLE, unparseable=True)
    method, target, version = parts
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if len(line) + 2 > MAX_LINE_LENGTH:
            raise HandshakeError(431, f"{_UNPARSEABLE[:-1]}: header line too long.", unparseable=True)
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or TOKEN.fullmatch(name) is None or CONTROL_CHARACTER.search(value) is not None:
            raise HandshakeError(400, _UNPARSEABLE, unparseable=True)
        headers.append((name.lower(), value))
    return check_http1_request(method.decode("ascii"), target, version[5:].decode("latin-1"), headers)


def _valid_key(key: bytes) -> bool:
    try:
        return len(b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


def checked_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The app's ``websocket.accept`` headers, refused if they could not be written safely."""
    checked = []
    for name, value in headers:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise RuntimeError(f"WebSocket accept headers must be pairs of bytes, got {(name, value)!r}.")
        if TOKEN.fullmatch(name) is None:
            raise RuntimeError(f"Invalid WebSocket accept header name {name!r}: names must be HTTP tokens.")
        if CONTROL_CHARACTER.search(value) is not None:
            raise RuntimeError(
                f"Invalid value for WebSocket accept header {name!r}: {value!r} holds a control character."
            )
        checked.append((name, value))
    return checked
