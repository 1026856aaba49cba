"""Smoke test for uvicorn-middleware installed alone: it imports with no other distribution at all.

    <venv>/bin/python import_proxy_headers.py RELEASE_VERSION

Only uvicorn-middleware is installed (it requires nothing), and importing its
modules loads no other part of ``uvicorn`` and nothing outside the standard library.
"""

from __future__ import annotations

import sys

from smoke_support import SmokeFailure, check_installed, smoke_main


def check(version: str) -> None:
    check_installed({"uvicorn-middleware"}, version)
    before = set(sys.modules)
    from uvicorn.middleware.asgi2 import ASGI2Middleware
    from uvicorn.middleware.message_logger import MessageLoggerMiddleware
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
    from uvicorn.middleware.wsgi import WSGIMiddleware

    loaded = set(sys.modules) - before
    other_uvicorn = sorted(
        n for n in loaded if n.startswith("uvicorn") and not n.startswith("uvicorn.middleware")
    )
    if other_uvicorn != ["uvicorn"]:
        raise SmokeFailure(f"importing the middleware loaded other parts of uvicorn: {other_uvicorn}")
    foreign = sorted(n for n in loaded if n.split(".")[0] not in {*sys.stdlib_module_names, "uvicorn"})
    if foreign:
        raise SmokeFailure(f"importing the middleware loaded more than the standard library: {foreign}")
    names = ", ".join(
        c.__name__ for c in (ProxyHeadersMiddleware, WSGIMiddleware, ASGI2Middleware, MessageLoggerMiddleware)
    )
    print(f"middleware smoke test passed: uvicorn-middleware {version} alone imports {names}")


if __name__ == "__main__":
    smoke_main(check)
