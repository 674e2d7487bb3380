"""The Docker Engine API over the Engine (layer L6): an aiohttp app and the daemon serving it.

``api.app.make_app(engine)`` builds the application (tests drive it with aiohttp's test
client); ``api.server.serve(settings, hosts)`` runs the daemon. Routes live one module per
resource (``routes_<name>.py``), listed in ``api.routes.ROUTE_MODULES``. Nothing is imported
here, so ``import dockyard.api`` stays cheap. Must not import ``cli/``.
"""
