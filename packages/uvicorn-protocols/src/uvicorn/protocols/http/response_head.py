"""Serialising response heads, for both parsers (h11 is used only to read requests).

The app's headers are checked on the way out: a name that is not an RFC 9110 token,
or a value holding CR, LF, NUL or another control character, is never written.
Names are classified once and remembered, because an app sends the same few names
on every response.
"""

from __future__ import annotations

import http
from collections.abc import Iterable
from typing import TYPE_CHECKING

from uvicorn.protocols.http.rules import CONTROL_CHARACTER, NO_CONTENT_STATUSES, TOKEN, comma_list

if TYPE_CHECKING:
    from uvicorn.protocols.asgi_types import HTTPResponseBodyEvent, HTTPResponseStartEvent

__all__ = [
    "CONNECTION",
    "CONTENT_LENGTH",
    "DEFAULT_OVERRIDE",
    "ORDINARY",
    "STATUS_LINES",
    "TRANSFER_ENCODING",
    "BodyFraming",
    "HeaderError",
    "ResponseHead",
    "check_status",
    "error_messages",
    "error_response",
    "header_kind",
    "serialize_default_headers",
    "serialized_defaults",
]


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


#: ``b"HTTP/1.1 200 OK\r\n"`` and friends, for every status an app may send.
STATUS_LINES: dict[int, bytes] = {status: _status_line(status) for status in range(100, 1000)}

# What a header name means to the server; learned once per distinct name.
_ORDINARY, _CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION, _DEFAULT_OVERRIDE = range(5)
#: :func:`header_kind` results, for writers that frame responses themselves (HTTP/2).
ORDINARY, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, DEFAULT_OVERRIDE = range(5)
_SPECIAL_NAMES = {
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    b"server": _DEFAULT_OVERRIDE,
    b"date": _DEFAULT_OVERRIDE,
}
_name_kinds: dict[bytes, int] = {}
_NAME_CACHE_LIMIT = 4096
# Values already found clean (content types, cache policies, ...): most repeat on every response.
_clean_values: set[bytes] = set()
_VALUE_CACHE_LIMIT = 4096
# Whole header lists an app sends over and over (the same names and values in the same order),
# with what ResponseHead made of them: (content_length, connection, app_closes, length_at, tail).
_Shape = tuple[int | None, bytes | None, bool, int | None, list[bytes]]
_shapes: dict[tuple[object, ...], _Shape] = {}
_SHAPE_CACHE_LIMIT = 512
_SHAPE_SIZE_LIMIT = 2048  # bytes of headers; larger lists are not remembered


class HeaderError(RuntimeError):
    """The app sent a response header that must not be written."""


def _classify(name: bytes) -> int:
    kind = _name_kinds.get(name)
    if kind is not None:
        return kind
    if not isinstance(name, bytes):
        raise HeaderError(f"Response header names must be bytes, got {type(name).__name__}: {name!r}.")
    if TOKEN.fullmatch(name) is None:
        raise HeaderError(f"Invalid response header name {name!r}: names must be HTTP tokens.")
    kind = _SPECIAL_NAMES.get(name.lower(), _ORDINARY)
    if len(_name_kinds) < _NAME_CACHE_LIMIT:
        _name_kinds[name] = kind
    return kind


def header_kind(name: bytes, value: object) -> int:
    """Check one response header as every HTTP version must; what its name means to the server.

    Raises :class:`HeaderError` for a name that is not a token or a value holding a
    control character.
    """
    kind = _classify(name)
    try:
        clean = value in _clean_values
    except TypeError:  # unhashable, so certainly not bytes
        clean = False
    if not clean:
        _check_value(name, value)
    return kind


def check_status(status: object) -> int:
    """The status, if it is an integer from 100 to 999 (else :class:`HeaderError`)."""
    if type(status) is not int or not 100 <= status <= 999:
        raise HeaderError(f"Invalid response status {status!r}: it must be an integer from 100 to 999.")
    return status


def _check_value(name: bytes, value: object) -> None:
    if not isinstance(value, bytes):
        raise HeaderError(f"Response header values must be bytes, got {type(value).__name__} for {name!r}.")
    if CONTROL_CHARACTER.search(value) is not None:
        raise HeaderError(f"Invalid value for response header {name!r}: {value!r} holds a control character.")
    if len(_clean_values) < _VALUE_CACHE_LIMIT:
        _clean_values.add(value)


class ResponseHead:
    """A validated response head and the framing it implies.

    The app's headers are written in the order it sent them, its framing headers
    (``content-length``, ``transfer-encoding: chunked``) included; what the server
    adds itself (framing for a body the app gave none for, ``connection: close``)
    goes last. The head is completed by :meth:`finish`, once the body's framing is known.
    """

    __slots__ = (
        "_chunked_at",
        "_length_at",
        "_parts",
        "chunked",
        "connection",
        "content_length",
        "keep_alive",
        "status",
    )

    content_length: int | None
    # The app's connection tokens, all its connection headers joined.
    connection: bytes | None
    # Where the app's framing headers are among the parts: finish() drops the one not used.
    _length_at: int | None
    _chunked_at: int | None

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[bytes, bytes]],
        default_headers: bytes,
        default_headers_list: list[tuple[bytes, bytes]],
        keep_alive: bool,
    ) -> None:
        self.status = status if type(status) is int and 100 <= status <= 999 else check_status(status)
        self.chunked = False
        self._chunked_at = None
        items = headers if type(headers) is tuple else tuple(headers)
        hashable = True
        try:
            shape = _shapes.get(items)
        except TypeError:  # pairs as lists, or an unhashable name or value: never remembered
            shape = None
            hashable = False
        if shape is not None:  # checked and serialised before: the same again
            self.content_length, self.connection, app_closes, self._length_at, tail = shape
            self.keep_alive = keep_alive and not app_closes
            self._parts = [STATUS_LINES[status], default_headers, *tail]
            return
        self.keep_alive = keep_alive
        self.content_length = None
        self.connection = None
        self._length_at = None
        overridden: set[bytes] | None = None
        parts = [STATUS_LINES[status], default_headers]
        for name, value in items:
            kind = _classify(name)
            try:
                clean = value in _clean_values
            except TypeError:  # unhashable, so certainly not bytes
                clean = False
            if not clean:
                _check_value(name, value)
            if kind:
                if kind == _CONTENT_LENGTH:
                    try:
                        length = int(value)
                    except ValueError:
                        raise HeaderError(f"Invalid content-length response header: {value!r}.") from None
                    if length < 0 or (self.content_length is not None and length != self.content_length):
                        raise HeaderError(f"Invalid content-length response header: {value!r}.")
                    if self._length_at is None:  # the same length again is written once
                        self.content_length = length
                        self._length_at = len(parts)
                        parts.append(name + b": %d\r\n" % length)  # as a plain number, whatever int() read
                    continue
                elif kind == _TRANSFER_ENCODING:
                    # The server frames the body itself: an app asking for chunked gets chunked
                    # (as upstream), any other coding is not applied, so not announced (ASGI).
                    if self._chunked_at is None and b"chunked" in comma_list(value):
                        self.chunked = True
                        self._chunked_at = len(parts)
                        parts.append(name + b": chunked\r\n")
                    continue
                elif kind == _CONNECTION:
                    self.connection = value if self.connection is None else self.connection + b", " + value
                    if b"close" in comma_list(value):
                        self.keep_alive = False
                else:
                    overridden = overridden or set()
                    overridden.add(name.lower())
            parts += (name, b": ", value, b"\r\n")
        if overridden:
            parts[1] = serialize_default_headers(
                [(n, v) for n, v in default_headers_list if n not in overridden]
            )
        elif self._chunked_at is None and hashable:
            self._remember(items, parts)
        self._parts = parts

    def _remember(self, items: tuple[object, ...], parts: list[bytes]) -> None:
        """Keep what the app's headers came to, for the next response with the same ones.

        Only heads that do not depend on the server-wide headers (no ``date`` or
        ``server`` of the app's), nor on the body (no ``transfer-encoding``).
        """
        tail = parts[2:]
        if sum(map(len, tail)) > _SHAPE_SIZE_LIMIT:
            return
        if len(_shapes) >= _SHAPE_CACHE_LIMIT:
            _shapes.clear()  # an app whose heads all differ (a varying length, say): start afresh
        app_closes = self.connection is not None and b"close" in comma_list(self.connection)
        _shapes[items] = (self.content_length, self.connection, app_closes, self._length_at, tail)

    def announce_length(self, length: int) -> None:
        """Give a head without ``content-length`` one, known before the body is (a file's size)."""
        self.content_length = length
        self._length_at = len(self._parts)
        self._parts.append(b"content-length: %d\r\n" % length)

    def use_chunked(self) -> None:
        """Frame the body chunked, as if the app had asked for it (trailers follow the body)."""
        self.chunked = True
        if self._chunked_at is None:
            self._chunked_at = len(self._parts)
            self._parts.append(b"transfer-encoding: chunked\r\n")

    def finish(
        self, has_body: bool, single_body: bytes | None, http11: bool, head_request: bool = False
    ) -> bytes:
        """The whole head: the app's headers, the framing and ``connection`` headers it lacks, the blank line.

        ``single_body`` is the whole body when the app sent it in one message (so a
        ``content-length`` can be given instead of chunking); ``has_body`` is false
        for HEAD requests and bodiless statuses. A HEAD response still gets the
        framing headers a GET would have (RFC 9110 9.3.2), though no body follows.
        """
        parts = self._parts
        extra = b""
        app_asked_chunked, self.chunked = self.chunked, False
        if app_asked_chunked and http11:
            # Chunked as the app asked (as upstream); a content-length beside it is dropped.
            if self._length_at is not None:
                parts[self._length_at] = b""
                self.content_length = None
            self.chunked = has_body
        else:
            if app_asked_chunked:
                parts[self._chunked_at] = b""  # type: ignore[index]  # HTTP/1.0 has no chunked coding
            if self.content_length is None and (
                has_body or (head_request and self.status not in NO_CONTENT_STATUSES)
            ):
                if single_body is not None:
                    # For HEAD an empty body says nothing about what a GET would get: no length then.
                    if has_body or single_body:
                        self.content_length = len(single_body)
                        extra = b"content-length: %d\r\n" % self.content_length
                elif http11:
                    self.chunked = has_body
                    extra = b"transfer-encoding: chunked\r\n"
                else:
                    self.keep_alive = False  # HTTP/1.0: the end of the body is the end of the connection
        if not self.keep_alive and (self.connection is None or b"close" not in comma_list(self.connection)):
            extra += b"connection: close\r\n"
        parts.append(extra + b"\r\n")
        return b"".join(parts)


_LAST_CHUNK = b"0\r\n\r\n"


class BodyFraming:
    """Frames the body messages that follow a written head: chunked, or counted against its length."""

    __slots__ = ("_left", "chunked")

    def __init__(self, head: ResponseHead) -> None:
        self.chunked = head.chunked
        self._left = head.content_length

    def frame(self, body: bytes, more_body: bool) -> bytes:
        """The bytes to write for one body message."""
        if self.chunked:
            if not body:
                return b"" if more_body else _LAST_CHUNK
            framed = b"%x\r\n%b\r\n" % (len(body), body)
            return framed if more_body else framed + _LAST_CHUNK
        if self._left is not None:
            self._left -= len(body)
            if self._left < 0:
                raise RuntimeError("Response content longer than Content-Length")
        return body

    def frame_file(self, count: int, more_body: bool) -> tuple[bytes, bytes]:
        """The bytes around ``count`` bytes of a file sent as one body message: ``(before, after)``."""
        if self.chunked:
            if not count:
                return b"", b"" if more_body else _LAST_CHUNK
            return b"%x\r\n" % count, b"\r\n" if more_body else b"\r\n" + _LAST_CHUNK
        if self._left is not None:
            if count > self._left:
                raise RuntimeError("Response content longer than Content-Length")
            self._left -= count
        return b"", b""

    def check_complete(self) -> None:
        """After the last body message: all the announced content was sent."""
        if self._left:
            raise RuntimeError("Response content shorter than Content-Length")


def serialize_default_headers(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The server-wide headers (``server``, ``date``, ``--header``) as one block of bytes."""
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


# The server-wide headers change once a second (the date); serialised once per change.
_defaults_source: list[tuple[bytes, bytes]] | None = None
_defaults_bytes = b""


def serialized_defaults(headers: list[tuple[bytes, bytes]]) -> bytes:
    """:func:`serialize_default_headers`, remembered for the list last given (the server replaces it)."""
    global _defaults_source, _defaults_bytes
    if headers is not _defaults_source:
        _defaults_bytes = serialize_default_headers(headers)
        _defaults_source = headers
    return _defaults_bytes


# ---------------------------------------------------------------- the server's own answers


def error_messages(status: int, message: str) -> tuple[HTTPResponseStartEvent, HTTPResponseBodyEvent]:
    """A plain-text response that closes the connection, as the two ASGI messages an app would send.

    Every error response the server writes itself is this one: sent through a
    request's ``send`` (500, 503), or written whole by :func:`error_response`.
    """
    body = message.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


def error_response(
    status: int,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
    default_headers: list[tuple[bytes, bytes]] | None = None,
) -> bytes:
    """:func:`error_messages` as bytes to write, with ``headers`` added: for requests we refuse.

    ``default_headers`` are the server-wide ones (``ProtocolServerState.default_headers``),
    which our own answers carry like the app's responses.
    """
    start, body = error_messages(status, message)
    defaults = default_headers or []
    head = ResponseHead(status, [*start["headers"], *headers], serialized_defaults(defaults), defaults, False)
    return head.finish(True, body["body"], True) + body["body"]
