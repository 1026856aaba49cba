"""Hypothesis settings for the fuzz tests, chosen by ``UVICORN_FUZZ_PROFILE``.

- ``ci`` (the default): few examples per property, so the suite stays fast, and
  derandomized: every run tries the same examples, so a failure in CI fails again
  on a developer's machine. No example database is read or written.
- ``long``: many more examples from a random seed, for a fuzzing session
  (``UVICORN_FUZZ_PROFILE=long uv run pytest tests/protocols -k fuzz``).

Either way a failure prints the smallest failing example and a
``@reproduce_failure`` decorator that replays it.

A test asks for a number of examples relative to the profile: :func:`fuzz_settings`
with ``weight`` (1.0 for a fast direct-protocol property, less for one that goes
through real sockets).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "TIMEOUT", "fuzz_settings"]

_ENVIRONMENT_VARIABLE = "UVICORN_FUZZ_PROFILE"

# Examples for a property of weight 1.0.
_EXAMPLES = {"ci": 120, "long": 5000}

_COMMON = {
    "deadline": None,  # the machine is shared: never fail on the time one example takes
    "database": None,
    "print_blob": True,
    # A test's fixtures (the parser or implementation under test) stay the same for all its examples.
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
}

settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("long", derandomize=False, **_COMMON)

PROFILE = os.environ.get(_ENVIRONMENT_VARIABLE, "ci")
if PROFILE not in _EXAMPLES:
    raise RuntimeError(f"{_ENVIRONMENT_VARIABLE}={PROFILE!r}: use one of {', '.join(_EXAMPLES)}")


#: pytest-timeout for a fuzz test: the suite's default in CI, none for a long session (0 disables it).
TIMEOUT = 0 if PROFILE == "long" else 120


def fuzz_settings(weight: float = 1.0) -> settings:
    """Settings for one property: the profile's examples scaled by ``weight``."""
    return settings(settings.get_profile(PROFILE), max_examples=max(1, int(_EXAMPLES[PROFILE] * weight)))
