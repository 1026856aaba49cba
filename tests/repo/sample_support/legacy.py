"""Stands in for a legacy WSGI application (``from legacy import wsgi_app``)."""


def wsgi_app(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"legacy WSGI at " + environ["PATH_INFO"].encode("latin-1")]
