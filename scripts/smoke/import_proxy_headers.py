"""Smoke test for uvicorn-middleware installed alone: it imports with no other uvicorn dist."""

from __future__ import annotations

import importlib.metadata
import sys

others = sorted(
    d.metadata["Name"]
    for d in importlib.metadata.distributions()
    if d.metadata["Name"].lower().startswith("uvicorn") and d.metadata["Name"].lower() != "uvicorn-middleware"
)
if others:
    sys.exit(f"expected uvicorn-middleware alone, but these are installed too: {others}")

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

loaded = sorted(
    name for name in sys.modules if name.startswith("uvicorn") and not name.startswith("uvicorn.middleware")
)
if loaded != ["uvicorn"]:
    sys.exit(f"importing the middleware pulled in other modules: {loaded}")
print("middleware smoke test passed:", ProxyHeadersMiddleware.__name__)
