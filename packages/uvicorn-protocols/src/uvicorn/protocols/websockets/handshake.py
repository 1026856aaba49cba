"""The WebSocket opening handshake request, read and checked once for every library.

The HTTP protocol hands a WebSocket protocol the request head it parsed (rebuilt as
bytes, followed by anything the client sent after it). This module reads that head
and checks it against RFC 6455 section 4.2.1 before any library sees it, so every
implementation answers a bad handshake the same way: ``426`` with
``Sec-WebSocket-Version: 13`` for a protocol version we do not speak, ``400`` for
everything else, and never ``101``.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from uvicorn.protocols.http.request_head import HeadProblem, decode_path, split_target
from uvicorn.protocols.http.response_head import error_response

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import WebSocketScope

__all__ = [
    "MAX_HEAD_SIZE",
    "HandshakeError",
    "HandshakeRequest",
    "checked_headers",
    "read_request",
    "rejection",
]

#: The most bytes we wait for while looking for the end of a request head. The
#: HTTP protocol has already bounded the head it hands over; this bounds callers
#: that drive a WebSocket protocol directly.
MAX_HEAD_SIZE = 65536

_VERSION_HEADER = (b"sec-websocket-version", b"13")

# RFC 9110 5.6.2 (token) for names, 5.5 for values: no CR, LF, NUL or other controls.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class HandshakeError(Exception):
    """A handshake request we refuse: the status, a one-line message and extra headers."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def response(self, default_headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
        """The complete response to write before closing the connection, after the server's headers."""
        return rejection(self.status, self.message, self.headers, default_headers)


@dataclass
class HandshakeRequest:
    """A valid opening handshake: what the ASGI scope and the libraries need from it."""

    head: bytes  # the request head as received, up to and including the blank line
    path: str  # percent-decoded, without the root path
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]  # names lowercased, in order
    subprotocols: list[str]

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
            "http_version": "1.1",
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

    @property
    def target(self) -> str:
        """The request target (path and query) as the client sent it."""
        query = b"?" + self.query_string if self.query_string else b""
        return (self.raw_path + query).decode("ascii", "surrogateescape")


def read_request(head: bytes) -> HandshakeRequest:
    """Parse and check a complete request head (ending with the blank line).

    Raises :class:`HandshakeError` with the answer the client should get.
    """
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise HandshakeError(400, "Invalid HTTP request received.")
    method, target, version = parts
    if method != b"GET":
        raise HandshakeError(400, "WebSocket handshake requests must use the GET method.")
    if version != b"HTTP/1.1":
        raise HandshakeError(400, "WebSocket handshake requests must use HTTP/1.1.")
    try:
        raw_path, query_string = split_target(target)
    except HeadProblem as problem:
        raise HandshakeError(problem.status, problem.message) from None

    headers: list[tuple[bytes, bytes]] = []
    hosts = 0
    upgrade_token = websocket_upgrade = False
    keys: list[bytes] = []
    versions: list[bytes] = []
    subprotocols: list[str] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise HandshakeError(400, "Invalid HTTP request received: malformed header line.")
        name = name.lower()
        value = value.strip(b" \t")
        headers.append((name, value))
        if name == b"host":
            hosts += 1
        elif name == b"connection":
            upgrade_token = upgrade_token or b"upgrade" in _tokens(value)
        elif name == b"upgrade":
            websocket_upgrade = websocket_upgrade or b"websocket" in _tokens(value)
        elif name == b"sec-websocket-key":
            keys.append(value)
        elif name == b"sec-websocket-version":
            versions.append(value)
        elif name == b"sec-websocket-protocol":
            subprotocols += [token.decode("latin-1") for token in _tokens(value, lower=False) if token]

    if hosts != 1:
        raise HandshakeError(400, "WebSocket handshake requests need exactly one Host header.")
    if not upgrade_token:
        raise HandshakeError(400, "Missing 'Connection: Upgrade' header.")
    if not websocket_upgrade:
        raise HandshakeError(400, "Missing 'Upgrade: websocket' header.")
    if not versions:
        raise HandshakeError(400, "Missing Sec-WebSocket-Version header.", (_VERSION_HEADER,))
    if versions != [b"13"]:
        raise HandshakeError(
            426, "Unsupported Sec-WebSocket-Version: this server speaks version 13.", (_VERSION_HEADER,)
        )
    if not keys:
        raise HandshakeError(400, "Missing Sec-WebSocket-Key header.")
    if len(keys) > 1:
        raise HandshakeError(400, "More than one Sec-WebSocket-Key header.")
    if not _valid_key(keys[0]):
        raise HandshakeError(400, "Invalid Sec-WebSocket-Key header: it must be 16 bytes in base64.")

    return HandshakeRequest(
        head=head,
        path=decode_path(raw_path),
        raw_path=raw_path,
        query_string=query_string,
        headers=headers,
        subprotocols=subprotocols,
    )


def _tokens(value: bytes, lower: bool = True) -> list[bytes]:
    if lower:
        value = value.lower()
    return [token.strip(b" \t") for token in value.split(b",")]


def _valid_key(key: bytes) -> bool:
    try:
        return len(b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


#: A complete plain-text response that closes the connection (shared with HTTP refusals).
rejection = error_response


def checked_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The app's ``websocket.accept`` headers, refused if they could not be written safely."""
    checked = []
    for name, value in headers:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise RuntimeError(f"WebSocket accept headers must be pairs of bytes, got {(name, value)!r}.")
        if _TOKEN.fullmatch(name) is None:
            raise RuntimeError(f"Invalid WebSocket accept header name {name!r}: names must be HTTP tokens.")
        if _BAD_VALUE.search(value) is not None:
            raise RuntimeError(
                f"Invalid value for WebSocket accept header {name!r}: {value!r} holds a control character."
            )
        checked.append((name, value))
    return checked
