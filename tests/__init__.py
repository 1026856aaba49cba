"""The monorepo's test suite: one folder per package, shared helpers in ``tests.serving``."""
