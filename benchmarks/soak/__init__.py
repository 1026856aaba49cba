"""The soak: a real ``uvicorn`` process under many connections and a long load, watched for leaks.

``uv run python -m benchmarks.soak --help``; docs/reliability.md says what it
checks, within which bounds, and the figures of the last full run.
"""
