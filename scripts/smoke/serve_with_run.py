"""Smoke test for an installed uvicorn-core: serve a request through ``uvicorn.run``.

Run with the interpreter of the environment under test. Starts itself in a child
process as the server, waits for its startup log line, requests a page with
urllib, then stops it with SIGINT and expects a clean exit.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"smoke ok"})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")


def main() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    seen: list[str] = []
    for line in child.stderr:
        seen.append(line)
        if "Uvicorn running on" in line:
            break
    else:
        print("server never started:\n" + "".join(seen), file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            body = response.read()
        if response.status != 200 or body != b"smoke ok":
            print(f"unexpected answer: {response.status} {body!r}", file=sys.stderr)
            return 1
    finally:
        child.send_signal(signal.SIGINT)
        rest = child.communicate(timeout=30)[1]
    if child.returncode not in (0, -signal.SIGINT):
        print(f"server exited with {child.returncode}:\n{''.join(seen)}{rest}", file=sys.stderr)
        return 1
    print("core smoke test passed: uvicorn.run served a request")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        sys.exit(main())
