"""uvicorn: the ASGI web server.

This ``__init__`` belongs to uvicorn-core and is the only one of the ``uvicorn``
namespace: the other distributions (protocols, middleware, cli, worker) add
subpackages and modules to it. Extending ``__path__`` first lets an editable
workspace, where each distribution has its own source folder, see them all.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.60.0"
