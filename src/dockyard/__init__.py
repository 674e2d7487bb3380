"""Dockyard: a Docker-compatible container engine.

The package is layered as ``shared/design/architecture.md`` describes; ``import dockyard``
stays cheap (no submodule is imported here), since CLI start-up is on the hot path.
"""

__version__ = "0.1.0"
