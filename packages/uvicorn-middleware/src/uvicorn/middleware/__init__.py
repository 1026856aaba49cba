"""ASGI middleware (uvicorn-middleware): usable in any ASGI server, with no dependencies."""
