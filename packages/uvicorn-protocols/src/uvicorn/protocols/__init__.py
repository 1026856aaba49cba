"""HTTP and WebSocket protocol implementations (uvicorn-protocols)."""
