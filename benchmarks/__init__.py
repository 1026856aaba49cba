"""The benchmark runner: our server against upstream uvicorn, same apps, same load.

Run ``uv run python -m benchmarks --help``; ``docs/benchmarks.md`` explains the rows.
Nothing here is imported by the packages or the test suite.
"""
