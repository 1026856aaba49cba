"""Stands in for an ASGI application (``from api import asgi_app``)."""


async def asgi_app(scope, receive, send):  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ASGI api at " + scope["path"].encode()})
