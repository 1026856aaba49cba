"""Which files each built distribution ships.

Installed from wheels, all our distributions unpack into one ``site-packages/uvicorn/``
folder, so a path shipped by two wheels would be overwritten by whichever installs
last and removed by whichever is uninstalled first.
"""

from __future__ import annotations

from pathlib import Path

from dists.layout import META, OURS, sdist_names, sdist_of, wheel_metadata, wheel_names, wheel_of

#: The only top-level folders our wheels may put into site-packages.
TOP_LEVEL = frozenset({"uvicorn", "uvicorn_worker"})
#: What every sdist needs to rebuild its wheel and to show its license and readme.
SDIST_FILES = ("PKG-INFO", "pyproject.toml", "README.md", "LICENSE")
#: Build and test leftovers that must never be published.
LEFTOVERS = ("__pycache__/", ".pyc", ".pyo", ".DS_Store", "/tests/", "/.pytest_cache/")


def check_contents(dist_dir: Path) -> list[str]:
    """Problems with the files of the built distributions; an empty list when all is well."""
    problems: list[str] = []
    owners: dict[str, str] = {}
    for name in OURS:
        wheel = wheel_of(dist_dir, name)
        paths = wheel_names(wheel)
        problems += _check_wheel_paths(name, paths)
        for path in paths:
            if ".dist-info/" in path:
                continue
            if path in owners:
                problems.append(f"{path} is shipped by both {owners[path]} and {name}")
            owners[path] = name
        sdist = sdist_names(sdist_of(dist_dir, name))
        for required in SDIST_FILES:
            if required not in sdist:
                problems.append(f"{name}: the sdist has no {required}")
        problems += [f"{name}: the sdist ships {p}" for p in sdist if _is_leftover(p)]
    init_owner = owners.get("uvicorn/__init__.py")
    if init_owner != "uvicorn-core":
        problems.append(f"uvicorn/__init__.py must be shipped by uvicorn-core only (found in {init_owner})")
    return problems


def _check_wheel_paths(name: str, paths: list[str]) -> list[str]:
    problems: list[str] = []
    code = [p for p in paths if ".dist-info/" not in p]
    if name == META and code:
        problems.append(f"{name}: the meta-package must ship no code, but has {code[:3]}")
    for path in code:
        if path.split("/")[0] not in TOP_LEVEL:
            problems.append(f"{name}: {path} is outside the folders we own ({', '.join(sorted(TOP_LEVEL))})")
        if _is_leftover(path):
            problems.append(f"{name}: the wheel ships {path}")
    if not any(p.endswith(".dist-info/licenses/LICENSE") for p in paths):
        problems.append(f"{name}: the wheel has no .dist-info/licenses/LICENSE")
    return problems


def check_typed_markers(dist_dir: Path) -> list[str]:
    """A distribution classified ``Typing :: Typed`` must ship a ``py.typed`` (PEP 561) for its code."""
    problems: list[str] = []
    for name in OURS:
        wheel = wheel_of(dist_dir, name)
        if "Typing :: Typed" not in (wheel_metadata(wheel).get_all("Classifier") or []):
            continue
        if not any(p.endswith("/py.typed") for p in wheel_names(wheel)):
            problems.append(f"{name}: classified 'Typing :: Typed' but ships no py.typed")
    return problems


def _is_leftover(path: str) -> bool:
    return any(mark in "/" + path for mark in LEFTOVERS)
