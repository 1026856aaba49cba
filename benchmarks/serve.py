"""Start one benchmark server: ``python benchmarks/serve.py APP --port N [options]``.

The runner starts every uvicorn through this script, each with its own
interpreter (the workspace venv for ours, a managed venv for each upstream
version), so all get exactly the same ``uvicorn.run(...)`` call and no CLI is
involved.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

# Run as a script, sys.path[0] is benchmarks/ itself, where a module could
# shadow a library of the same name; the repository root is what we need.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO_ROOT)

from benchmarks.apps import APPS  # noqa: E402

STARTUP_FAILURE = 3


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", default="auto")
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--ws", default="auto")
    parser.add_argument("--access-log", choices=["on", "off"], default="on")
    parser.add_argument("--timeout-keep-alive", type=int, default=5)
    parser.add_argument("--http2", action="store_true", help="pass http2=True (only when given)")
    parser.add_argument("--admin-port", action="store_true", help="pass admin_port=0 (only when given)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        import uvicorn
    except ImportError as exc:
        print(f"serve.py: cannot import uvicorn: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    run = getattr(uvicorn, "run", None)
    if run is None:
        print(f"serve.py: uvicorn.run is not available yet in {uvicorn.__file__}", file=sys.stderr)
        return STARTUP_FAILURE
    options: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "http": args.http,
        "loop": args.loop,
        "ws": args.ws,
        "access_log": args.access_log == "on",
        "timeout_keep_alive": args.timeout_keep_alive,
    }
    if args.http2:  # a uvicorn without the option would refuse even http2=False
        options["http2"] = True
    if args.admin_port:  # metrics on, the listener on a port the kernel picks
        options["admin_port"] = 0
    # Upstream has no request-head deadline; ours closes a connection that
    # sends no head in time, idle keep-alive ones included. Matching upstream's
    # behaviour means letting that deadline be as long as the keep-alive one.
    if "timeout_request_head" in inspect.signature(run).parameters:
        options["timeout_request_head"] = float(args.timeout_keep_alive)
    run(APPS[args.app], **options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
