"""Run upstream uvicorn's own test suite against this checkout's packages (``scripts/upstream_tests.py``)."""
