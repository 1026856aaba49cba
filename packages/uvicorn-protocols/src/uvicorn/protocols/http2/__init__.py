"""HTTP/2 (RFC 9113): one connection of many streams, each served by the shared ASGI cycle.

``connection.py`` is the asyncio protocol; ``stream.py`` is the response writer
of one stream; ``engine.py`` names what a framing library must offer, and
``engine_zttp.py`` / ``engine_h2.py`` adapt zttp and h2 to it; ``frame_guard.py``
bounds what a client may make the server do, whichever library parses.
"""
