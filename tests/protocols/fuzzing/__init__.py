"""Property-based fuzzing of the protocol layer with hypothesis (see docs/reliability.md).

The harness feeds generated input to the public protocol classes, built as the
server builds them (``config, server_state, app_state, _loop``), through their
``asyncio.Protocol`` methods on a transport stand-in, on an event loop whose
clock moves only when told. That runs thousands of examples in seconds and
makes every run reproducible. A smaller number of examples goes through real
servers and sockets to show that the same properties hold end to end.

Modules:

- ``profiles``: the hypothesis settings (``UVICORN_FUZZ_PROFILE=ci|long``).
- ``loop``: the event loop with a virtual clock, run until idle.
- ``transport``: the transport stand-in and the client side of a connection.
- ``http1``: HTTP/1.1 requests (valid and broken), their byte streams and what
  the server must answer, for every parser of ``tests/protocols/conftest.py``
  (the fuzz tests take its ``http`` fixture); used by
  ``tests/protocols/test_fuzz_http1.py``.
- ``websocket``: RFC 6455 frame sequences and what the server must answer; used
  by ``tests/protocols/test_fuzz_websockets.py``.
- ``http2``: HTTP/2 conversations (a real h2 client's frames, split and ended
  any way, with one broken thing from ``http2_broken``/``http2_broken_frames``
  and its answers in ``http2_answers``), read back strictly by ``http2_frames``
  and judged by ``http2_checks``, for both engines (h2, zttp); used by
  ``tests/protocols/test_fuzz_http2.py``.
"""
