"""The registry of route tables: one module per resource, each with an aiohttp ``routes`` table.

To add a resource (containers, networks, volumes, exec, build), write ``routes_<name>.py``
holding ``routes = web.RouteTableDef()`` (and, if it keeps per-app state, a
``setup(app: web.Application) -> None``) and add ``<name>`` to ``ROUTE_MODULES``. ``install``
adds each route twice, bare (``/images/json``) and with the version prefix
(``/v1.50/images/json``), whose version the app's middleware checks.

Image names may contain slashes, so image routes use ``{name:.+}``; put fixed paths
(``/images/json``) before such patterns in the module, since the first match wins.
"""

from __future__ import annotations

import importlib

from aiohttp import web

__all__ = ["ROUTE_MODULES", "install"]

ROUTE_MODULES: tuple[str, ...] = (
    "system",
    "images",
    "image_transfer",
    "registry",
    "events",
    "volumes",
    "containers",
    "attach",
    "build",
    "networks",
    "exec",
    "container_tools",
    "swarm",
)

VERSION_PREFIX = r"/v{api_version:[0-9]+\.[0-9]+}"


def install(app: web.Application, module_names: tuple[str, ...] = ROUTE_MODULES) -> None:
    """Add every route of *module_names* to *app*, bare and version-prefixed, and call each
    module's optional ``setup(app)`` (per-app state, background tasks)."""
    defs: list[web.RouteDef] = []
    for name in module_names:
        module = importlib.import_module(f"dockyard.api.routes_{name}")
        table: web.RouteTableDef = module.routes
        defs.extend(r for r in table if isinstance(r, web.RouteDef))
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    for prefix in ("", VERSION_PREFIX):
        for r in defs:
            if r.method == "GET":  # add_get answers HEAD too
                app.router.add_get(prefix + r.path, r.handler, **r.kwargs)
            else:
                app.router.add_route(r.method, prefix + r.path, r.handler, **r.kwargs)
