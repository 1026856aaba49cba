"""Build every distribution and check it the way a user would meet it.

    python scripts/check_dists.py [--dist-dir dist] [--keep]

1. Builds the sdist and wheel of the meta-package and the five packages (wheels are
   built from the sdists, so a file missing from an sdist fails here).
2. Checks that no file path is shipped by two wheels, that every version matches
   ./VERSION and that our packages pin each other with ``==``.
3. Installs wheel sets into fresh virtual environments with ``--no-index`` (third-party
   dependencies come from a local wheelhouse filled beforehand) and runs a smoke test
   in each: see ``SCENARIOS``.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "scripts" / "smoke"
OURS = ("uvicorn", "uvicorn-core", "uvicorn-protocols", "uvicorn-middleware", "uvicorn-cli", "uvicorn-worker")

# name -> (distributions to install, smoke script and its arguments)
SCENARIOS: dict[str, tuple[list[str], list[str]]] = {
    "core alone serves through uvicorn.run": (["uvicorn-core"], ["serve_with_run.py"]),
    "middleware alone imports proxy_headers": (["uvicorn-middleware"], ["import_proxy_headers.py"]),
}
OPTIONAL_SCENARIOS: dict[str, tuple[list[str], list[str]]] = {
    # Added by the middleware package: serves through its middleware with no other uvicorn dist.
    "middleware alone serves HTTP": (
        ["uvicorn-middleware"],
        [str(ROOT / "tests" / "middleware" / "standalone_smoke.py")],
    ),
}


def run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def build(dist_dir: Path) -> None:
    if dist_dir.exists():
        shutil.rmtree(dist_dir)
    # `uv run` tells its children where uv is; otherwise use the one on PATH.
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    run([uv, "build", "--all-packages", "--out-dir", str(dist_dir)], cwd=ROOT)


def wheel_of(dist_dir: Path, name: str) -> Path:
    prefix = name.replace("-", "_") + "-"
    found = [p for p in dist_dir.glob("*.whl") if p.name.startswith(prefix)]
    if len(found) != 1:
        raise SystemExit(f"expected one wheel for {name} in {dist_dir}, found {found}")
    return found[0]


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


def check_wheels(dist_dir: Path) -> list[str]:
    problems: list[str] = []
    version = (ROOT / "VERSION").read_text().strip()
    owners: dict[str, str] = {}
    for name in OURS:
        wheel = wheel_of(dist_dir, name)
        sdists = list(dist_dir.glob(name.replace("-", "_") + "-*.tar.gz"))
        if len(sdists) != 1:
            problems.append(f"{name}: expected one sdist, found {sdists}")
        metadata = wheel_metadata(wheel)
        if metadata["Version"] != version:
            problems.append(f"{name}: version {metadata['Version']} is not {version}")
        for requirement in metadata.get_all("Requires-Dist") or []:
            match = re.match(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*([^;]*)", requirement)
            assert match is not None
            dep_name, spec = match[1].lower().replace("_", "-"), match[3].strip()
            if dep_name in OURS and spec != f"=={version}":
                problems.append(f"{name}: requirement {requirement!r} must pin {dep_name}=={version}")
        with zipfile.ZipFile(wheel) as archive:
            for path in archive.namelist():
                if ".dist-info/" in path:
                    continue
                if path in owners:
                    problems.append(f"{path} is shipped by both {owners[path]} and {name}")
                owners[path] = name
    init_owner = owners.get("uvicorn/__init__.py")
    if init_owner != "uvicorn-core":
        problems.append(f"uvicorn/__init__.py must be shipped by uvicorn-core only (found in {init_owner})")
    return problems


def fill_wheelhouse(dist_dir: Path, wheelhouse: Path, work: Path) -> None:
    """Download the third-party dependencies of all our wheels, so installs can use --no-index."""
    version = (ROOT / "VERSION").read_text().strip()
    python = make_venv(work / "downloader")
    pip = [str(python), "-m", "pip", "download", "--quiet", "--dest", str(wheelhouse)]
    run([*pip, "--find-links", str(dist_dir), f"uvicorn[standard]=={version}"])


def make_venv(env_dir: Path) -> Path:
    venv.create(env_dir, with_pip=True)
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"


def smoke(
    name: str, dists: list[str], script: list[str], dist_dir: Path, wheelhouse: Path, work: Path
) -> None:
    print(f"== scenario: {name}", flush=True)
    python = make_venv(work / name.replace(" ", "-"))
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-index"]
    run([*pip, "--find-links", str(dist_dir), "--find-links", str(wheelhouse), *dists])
    target = Path(script[0]) if Path(script[0]).is_absolute() else SMOKE / script[0]
    # Run from an empty directory so nothing is imported from the repository by accident.
    run([str(python), str(target), *script[1:]], cwd=work)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dist-dir", type=Path, default=ROOT / "dist")
    parser.add_argument("--keep", action="store_true", help="keep the virtual environments")
    args = parser.parse_args()

    build(args.dist_dir)
    problems = check_wheels(args.dist_dir)
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    if problems:
        return 1
    print("wheels: versions, pins and file ownership are consistent", flush=True)

    work = Path(tempfile.mkdtemp(prefix="uvicorn-dists-"))
    try:
        wheelhouse = work / "wheelhouse"
        fill_wheelhouse(args.dist_dir, wheelhouse, work)
        scenarios = dict(SCENARIOS)
        for name, (dists, script) in OPTIONAL_SCENARIOS.items():
            if Path(script[0]).exists():
                scenarios[name] = (dists, script)
        for name, (dists, script) in scenarios.items():
            smoke(name, dists, script, args.dist_dir, wheelhouse, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("all distribution checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
