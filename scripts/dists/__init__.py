"""Helpers of ``scripts/check_dists.py``: what we publish, how built files are checked and smoke-tested.

- ``layout``: our distribution names, the release version, how they depend on each other, built files.
- ``process``: running a command with a time limit (nothing here may hang).
- ``contents``: which files each built distribution ships.
- ``metadata``: what each built distribution says about itself (name, version, pins, license...).
- ``environments``: fresh virtual environments, the wheelhouse of third-party wheels, installs.
- ``scenarios``: the install scenarios and the smoke scripts (``scripts/smoke/``) each one runs.
"""
