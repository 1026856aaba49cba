"""The ASGI lifespan protocol: ``on`` (also used for ``auto``) and ``off``."""
