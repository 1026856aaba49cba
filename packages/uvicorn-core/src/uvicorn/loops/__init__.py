"""Event loop factories for ``Config(loop=...)``: ``auto``, ``asyncio`` and ``uvloop``."""
