"""Gunicorn worker classes running uvicorn (uvicorn-worker)."""
