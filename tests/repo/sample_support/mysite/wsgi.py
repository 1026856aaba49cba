"""Stands in for a Django project's ``mysite/wsgi.py``: a WSGI callable named ``application``."""


def application(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello from a WSGI application"]
