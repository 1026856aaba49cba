"""What each built distribution says about itself: its wheel's METADATA and its sdist's PKG-INFO.

The checks look at the built files, not at the pyproject files: the built files are
what gets uploaded and what a package index shows.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from dists.layout import (
    DEPENDS_ON,
    OURS,
    STANDARD_LIBRARY_ONLY,
    UPLOAD_ORDER,
    normalise,
    sdist_metadata,
    sdist_of,
    wheel_metadata,
    wheel_of,
)

LICENSE_EXPRESSION = "BSD-3-Clause"
LICENSE_CLASSIFIER = "License :: OSI Approved :: BSD License"
REQUIRES_PYTHON = ">=3.10"
#: Python versions we claim in classifiers; each must be allowed by REQUIRES_PYTHON.
PYTHON_CLASSIFIERS = frozenset(
    {"Programming Language :: Python :: 3", "Programming Language :: Python :: 3 :: Only"}
    | {f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)}
)
REQUIRED_URLS = ("Homepage", "Documentation", "Source", "Changelog")
#: Shorter than this, a readme cannot say what the package is, who needs it and show an example.
MIN_README_CHARS = 600

_RELATIVE_LINK = re.compile(
    r"\]\((?!https?://|mailto:|#)(?P<target>[^)\s]+)[^)]*\)|^\[[^\]]+\]:\s*(?!https?://|#)(?P<ref>\S+)", re.M
)
_MINOR_VERSION = re.compile(r"^Programming Language :: Python :: 3\.(\d+)$")


def check_metadata(dist_dir: Path, version: str) -> list[str]:
    """Problems with the metadata of all our built files, and between them; empty when all is well."""
    problems: list[str] = []
    wheels: dict[str, email.message.Message] = {}
    for name in OURS:
        wheel = wheel_metadata(wheel_of(dist_dir, name))
        wheels[name] = wheel
        problems += [f"{name} (wheel): {p}" for p in check_one(name, wheel, version)]
        sdist = sdist_metadata(sdist_of(dist_dir, name))
        problems += [f"{name} (sdist): {p}" for p in check_one(name, sdist, version)]
        problems += [f"{name}: {p}" for p in _compare_sdist(wheel, sdist)]
    problems += check_alike(wheels)
    problems += check_upload_order()
    return problems


def check_one(name: str, metadata: email.message.Message, version: str) -> list[str]:
    """Problems with one distribution's metadata."""
    problems: list[str] = []
    if normalise(metadata.get("Name", "")) != name:
        problems.append(f"Name is {metadata.get('Name')!r}")
    if metadata.get("Version") != version:
        problems.append(f"Version {metadata.get('Version')} is not {version} (./VERSION)")
    summary = metadata.get("Summary", "")
    if not summary.strip() or "\n" in summary:
        problems.append("Summary must be one non-empty line")
    if not (metadata.get("Author") or metadata.get("Author-email")):
        problems.append("no Author")
    if metadata.get("Requires-Python") != REQUIRES_PYTHON:
        problems.append(f"Requires-Python is {metadata.get('Requires-Python')!r}, not {REQUIRES_PYTHON!r}")
    problems += _check_requirements(name, metadata.get_all("Requires-Dist") or [], version)
    classifiers = metadata.get_all("Classifier") or []
    problems += _check_license(metadata, classifiers)
    problems += _check_classifiers(classifiers)
    problems += _check_urls(metadata.get_all("Project-URL") or [])
    problems += _check_readme(name, metadata)
    return problems


def _check_requirements(name: str, lines: Iterable[str], version: str) -> list[str]:
    problems: list[str] = []
    ours_required: set[str] = set()
    unconditional = 0
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"unreadable requirement {line!r}: {exc}")
            continue
        unconditional += requirement.marker is None
        required = normalise(requirement.name)
        if required not in OURS:
            continue
        ours_required.add(required)
        if str(requirement.specifier) != f"=={version}" or requirement.marker is not None:
            problems.append(f"requirement {line!r} must be an unconditional {required}=={version}")
    expected = DEPENDS_ON[name]
    if ours_required != expected:
        problems.append(
            f"requires {sorted(ours_required) or 'none'} of ours; "
            f"docs/architecture.md says {sorted(expected) or 'none'}"
        )
    if name in STANDARD_LIBRARY_ONLY and unconditional:
        problems.append("must require nothing (standard library only)")
    return problems


def _check_license(metadata: email.message.Message, classifiers: list[str]) -> list[str]:
    expression = metadata.get("License-Expression")
    problems: list[str] = []
    if expression is not None and expression != LICENSE_EXPRESSION:
        problems.append(f"License-Expression is {expression!r}, not {LICENSE_EXPRESSION!r}")
    if expression is None and LICENSE_CLASSIFIER not in classifiers:
        problems.append(
            f"no License-Expression {LICENSE_EXPRESSION!r} nor the classifier {LICENSE_CLASSIFIER!r}"
        )
    if "LICENSE" not in (metadata.get_all("License-File") or []):
        problems.append("License-File LICENSE is missing")
    return problems


def _check_classifiers(classifiers: list[str]) -> list[str]:
    problems = [f"classifier {c!r} missing" for c in sorted(PYTHON_CLASSIFIERS - set(classifiers))]
    for classifier in classifiers:
        minor = _MINOR_VERSION.match(classifier)
        if minor and int(minor[1]) < 10:
            problems.append(f"classifier {classifier!r} contradicts Requires-Python {REQUIRES_PYTHON}")
    if not any(c.startswith("Development Status :: ") for c in classifiers):
        problems.append("no 'Development Status' classifier")
    return problems


def _check_urls(lines: list[str]) -> list[str]:
    urls = dict(line.split(", ", 1) for line in lines if ", " in line)
    problems = [f"Project-URL {label!r} missing" for label in REQUIRED_URLS if label not in urls]
    problems += [
        f"Project-URL {label} {url!r} is not https"
        for label, url in urls.items()
        if not url.startswith("https://")
    ]
    return problems


def _check_readme(name: str, metadata: email.message.Message) -> list[str]:
    """The long description is the package's index page: markdown, substantial, usable off GitHub."""
    problems: list[str] = []
    content_type = metadata.get("Description-Content-Type", "")
    if not content_type.startswith("text/markdown"):
        problems.append(f"Description-Content-Type is {content_type!r}, not text/markdown")
    payload = metadata.get_payload()
    text = payload if isinstance(payload, str) else ""
    if len(text) < MIN_README_CHARS:
        problems.append(
            f"the readme has {len(text)} characters: too short to say what {name} is, "
            "who should depend on it, and show an example"
        )
    if "```" not in text:
        problems.append("the readme shows no code example (a fenced code block)")
    if f"pip install {name}" not in text and f"pip install '{name}[" not in text:
        problems.append(f"the readme does not say 'pip install {name}'")
    for link in _RELATIVE_LINK.finditer(text):
        target = link["target"] or link["ref"]
        problems.append(
            f"the readme links to {target!r}, which a package index cannot resolve: use an absolute URL"
        )
    return problems


def _compare_sdist(wheel: email.message.Message, sdist: email.message.Message) -> list[str]:
    """A wheel built from the sdist must describe the same project."""
    fields = ("Name", "Version", "Summary", "Requires-Python", "License-Expression")
    problems = [
        f"{field} differs between sdist and wheel" for field in fields if wheel.get(field) != sdist.get(field)
    ]
    if sorted(wheel.get_all("Requires-Dist") or []) != sorted(sdist.get_all("Requires-Dist") or []):
        problems.append("Requires-Dist differs between sdist and wheel")
    return problems


def check_alike(wheels: dict[str, email.message.Message]) -> list[str]:
    """What must be the same for the six: license, Python support, home page and documentation."""
    problems: list[str] = []

    def python_classifiers(metadata: email.message.Message) -> list[str]:
        return sorted(
            c for c in metadata.get_all("Classifier") or [] if c.startswith("Programming Language :: Python")
        )

    def url(metadata: email.message.Message, label: str) -> str:
        found = [
            line.split(", ", 1)[1]
            for line in metadata.get_all("Project-URL") or []
            if line.startswith(f"{label}, ")
        ]
        return found[0] if found else ""

    facets: dict[str, Callable[[email.message.Message], str]] = {
        "License-Expression": lambda m: str(m.get("License-Expression")),
        "Requires-Python": lambda m: str(m.get("Requires-Python")),
        "Python classifiers": lambda m: ", ".join(python_classifiers(m)),
        "Homepage": lambda m: url(m, "Homepage"),
        "Documentation": lambda m: url(m, "Documentation"),
        "Changelog": lambda m: url(m, "Changelog"),
    }
    for facet, value_of in facets.items():
        holders: dict[str, list[str]] = {}
        for name, metadata in wheels.items():
            holders.setdefault(value_of(metadata), []).append(name)
        if len(holders) > 1:
            each = "; ".join(f"{', '.join(names)}: {value or '(none)'}" for value, names in holders.items())
            problems.append(f"{facet} differs between our distributions ({each})")
    return problems


def check_upload_order() -> list[str]:
    """Leaves first: every distribution comes after each one it pins."""
    problems = []
    for position, name in enumerate(UPLOAD_ORDER):
        later = set(UPLOAD_ORDER[position + 1 :]) & DEPENDS_ON[name]
        if later:
            problems.append(f"upload order: {name} comes before {sorted(later)}, which it pins")
    if sorted(UPLOAD_ORDER) != sorted(OURS):
        problems.append(f"upload order {UPLOAD_ORDER} does not list each of {OURS} once")
    return problems
