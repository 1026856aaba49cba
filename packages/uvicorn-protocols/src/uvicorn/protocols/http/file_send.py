"""Files as response bodies: ``http.response.pathsend`` and ``http.response.zerocopysend``.

The app names a file (a path, or a file descriptor with an offset and a count)
and the server moves its bytes. Both messages become a :class:`FilePart`; the
response writer frames it and hands it to a sender:

- :class:`SocketFileSender`, on plain TCP: ``os.sendfile`` from the page cache
  straight into the socket, no copy through Python. It is used with both event
  loops (uvloop's loop has no ``loop.sendfile``; asyncio's costs more per
  response for small files than these few system calls), and waits for the
  socket to take more with the loop's ``add_writer`` on a duplicate of the
  socket's descriptor (a transport's own descriptor cannot be watched twice).
- :class:`BufferedFileSender`, under TLS (the bytes must be encrypted) or where
  the transport has no socket or the OS no ``sendfile``: reads of ``CHUNK_SIZE``
  bytes written through the transport, pausing while its buffer is full.

Both hold at most one chunk (or the socket's own buffer) at a time, however large
the file, and stop when the connection is lost. Opening the file and reading its
size happen before anything is written, so a missing or unreadable path fails
while the response can still become a 500. File reads (``sendfile``, ``pread``)
run on the event loop, as the app's own reads would: served files are expected
to be in the page cache or on local disks.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from uvicorn.protocols.http.flow_control import FlowControl

__all__ = [
    "CHUNK_SIZE",
    "FILE_MESSAGES",
    "BufferedFileSender",
    "FilePart",
    "FileSender",
    "SocketFileSender",
    "file_part",
    "file_sender",
    "read_part",
]

#: The ASGI messages whose body is a file.
FILE_MESSAGES = frozenset({"http.response.pathsend", "http.response.zerocopysend"})
#: Bytes read and written at a time where the file cannot go to the socket directly.
CHUNK_SIZE = 256 * 1024

_pread = getattr(os, "pread", None)
_sendfile = getattr(os, "sendfile", None)
# O_NONBLOCK: opening a FIFO by mistake must not block the loop (it is then refused as not a file).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
# Errors of the socket, not of the file: the client went away mid-file.
_PEER_GONE_ERRNOS = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN})


class FilePart:
    """A range of an open file to send as (part of) a response body."""

    __slots__ = ("_owned", "_seek", "count", "fd", "offset")

    def __init__(
        self, fd: int, offset: int, count: int, owned: bool, seek: Callable[[int], Any] | None = None
    ) -> None:
        self.fd = fd
        self.offset = offset
        self.count = count
        self._owned = owned  # opened by the server (pathsend): closed by it
        # zerocopysend without an offset: the file's position moves past what was sent, as a read would.
        self._seek = seek

    def sent(self, count: int) -> None:
        """``count`` bytes of the part went out."""
        if self._seek is not None and count:
            self._seek(self.offset + count)

    def close(self) -> None:
        """Close the file if the server opened it (the app closes the descriptors it gives)."""
        if self._owned:
            self._owned = False
            os.close(self.fd)


def file_part(message: Any) -> FilePart:
    """The file of a pathsend or zerocopysend message; raises ``OSError``/``ValueError``/``TypeError``.

    Nothing is written yet when this fails, so the response can still be a 500.
    """
    if message["type"] == "http.response.pathsend":
        path = message["path"]
        fd = os.open(path, _OPEN_FLAGS)
        try:
            size = _regular_file_size(fd, path)
        except BaseException:
            os.close(fd)
            raise
        return FilePart(fd, 0, size, owned=True)
    file = message["file"]
    fd = file if isinstance(file, int) else file.fileno()
    size = _regular_file_size(fd, file)
    offset = message.get("offset")
    count = message.get("count")
    seek: Callable[[int], Any] | None = None
    if offset is None:
        # A Python file object knows its position better than the descriptor (it reads ahead).
        if hasattr(file, "tell") and hasattr(file, "seek"):
            offset, seek = file.tell(), file.seek
        else:
            offset = os.lseek(fd, 0, os.SEEK_CUR)
            seek = lambda position: os.lseek(fd, position, os.SEEK_SET)  # noqa: E731
    if type(offset) is not int or offset < 0 or (count is not None and (type(count) is not int or count < 0)):
        raise ValueError(
            f"zerocopysend: offset {offset!r} and count {count!r} must be integers, not negative"
        )
    available = max(size - offset, 0)
    return FilePart(fd, offset, available if count is None else min(count, available), False, seek)


def _regular_file_size(fd: int, name: object) -> int:
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(name))
    return status.st_size


def read_part(part: FilePart, position: int, size: int) -> bytes:
    """Up to ``size`` bytes of the file at ``position`` (its file position is left alone)."""
    if _pread is not None:
        data: bytes = _pread(part.fd, size, position)
        return data
    os.lseek(part.fd, position, os.SEEK_SET)  # no pread (Windows)
    return os.read(part.fd, size)


def _shorter(part: FilePart, sent: int) -> RuntimeError:
    return RuntimeError(
        f"The file ended after {sent} of the {part.count} bytes to send (it shrank meanwhile)."
    )


def _peer_gone(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError) or exc.errno in _PEER_GONE_ERRNOS


class FileSender(Protocol):
    """Writes ``prefix``, the file part, then ``suffix`` in order on one connection."""

    async def send(self, prefix: bytes, part: FilePart, suffix: bytes) -> None: ...


class BufferedFileSender:
    """Reads the file a chunk at a time and writes through the transport (TLS, or no sendfile)."""

    __slots__ = ("_flow", "_transport")

    def __init__(self, transport: asyncio.Transport, flow: FlowControl) -> None:
        self._transport = transport
        self._flow = flow

    async def send(self, prefix: bytes, part: FilePart, suffix: bytes) -> None:
        transport, flow = self._transport, self._flow
        position, left = part.offset, part.count
        try:
            while left and not transport.is_closing():
                data = read_part(part, position, min(CHUNK_SIZE, left))
                if not data:
                    raise _shorter(part, position - part.offset)
                position += len(data)
                left -= len(data)
                if prefix:
                    transport.writelines((prefix, data))
                    prefix = b""
                else:
                    transport.write(data)
                if flow.write_paused:
                    await flow.drain()  # also returns when the connection is lost
        finally:
            part.sent(position - part.offset)
        if transport.is_closing():
            return
        if prefix or suffix:
            transport.write(prefix + suffix)


class SocketFileSender:
    """``os.sendfile`` into the socket of a plain TCP connection: the file never enters Python.

    The socket is written directly, so the transport's buffer must be empty
    first (what it holds was sent before us) and stays empty meanwhile (one
    response at a time on HTTP/1.1). To wait for the socket, the wait borrows the
    connection's :class:`FlowControl`: marked paused, woken by the socket being
    writable (``add_writer`` on a duplicate descriptor) or by the connection's
    loss, which resumes it. The duplicate lives only for one send, so it never
    keeps a closed connection's socket open.
    """

    __slots__ = ("_flow", "_loop", "_socket_fd", "_transport", "_watched")

    def __init__(
        self, transport: asyncio.Transport, flow: FlowControl, loop: asyncio.AbstractEventLoop, socket_fd: int
    ) -> None:
        self._transport = transport
        self._flow = flow
        self._loop = loop
        self._socket_fd = socket_fd
        self._watched: int | None = None  # the duplicate descriptor, during a send that had to wait

    async def send(self, prefix: bytes, part: FilePart, suffix: bytes) -> None:
        try:
            if not await self._transport_emptied():
                return
            if prefix and not await self._write(prefix):
                return
            await self._send_file(part)
            if suffix and not self._transport.is_closing():
                self._transport.write(suffix)
        finally:
            if self._watched is not None:
                os.close(self._watched)
                self._watched = None

    async def _transport_emptied(self) -> bool:
        transport = self._transport
        while transport.get_write_buffer_size():
            if transport.is_closing():
                return False
            if self._flow.write_paused:
                await self._flow.drain()
            else:
                await self._writable()
        return not transport.is_closing()

    async def _write(self, data: bytes) -> bool:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._socket_fd, view) :]
            except BlockingIOError:
                if not await self._writable():
                    return False
            except OSError as exc:
                if not _peer_gone(exc):
                    raise
                self._transport.close()
                return False
        return True

    async def _send_file(self, part: FilePart) -> None:
        assert _sendfile is not None
        position, end = part.offset, part.offset + part.count
        try:
            while position < end:
                try:
                    sent = _sendfile(self._socket_fd, part.fd, position, end - position)
                except BlockingIOError:
                    if not await self._writable():
                        return
                    continue
                except OSError as exc:
                    if not _peer_gone(exc):
                        raise  # the file's error (EIO...): the app's response fails
                    self._transport.close()  # the transport learns only now that its peer is gone
                    return
                if not sent:
                    raise _shorter(part, position - part.offset)
                position += sent
        finally:
            part.sent(position - part.offset)

    async def _writable(self) -> bool:
        """Wait until the socket takes more bytes; False once the connection is closing."""
        flow, loop = self._flow, self._loop
        if self._watched is None:
            self._watched = os.dup(self._socket_fd)
        flow.pause_writing()
        loop.add_writer(self._watched, flow.resume_writing)
        try:
            await flow.drain()
        finally:
            loop.remove_writer(self._watched)
            flow.resume_writing()
        return not self._transport.is_closing()


def file_sender(transport: asyncio.Transport, flow: FlowControl, loop: Any) -> FileSender:
    """The sender for this connection: ``sendfile`` on plain TCP where the loop can watch a socket."""
    socket = transport.get_extra_info("socket")
    if (
        _sendfile is not None
        and socket is not None
        and transport.get_extra_info("sslcontext") is None
        and hasattr(loop, "add_writer")
        and hasattr(transport, "get_write_buffer_size")
    ):
        return SocketFileSender(transport, flow, loop, socket.fileno())
    return BufferedFileSender(transport, flow)
