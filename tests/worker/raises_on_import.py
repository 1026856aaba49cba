"""An application module that fails to import, as one with a bug at module level does."""

raise RuntimeError("this module is broken on purpose")
