"""Process supervisors for --reload and --workers (uvicorn-cli)."""
