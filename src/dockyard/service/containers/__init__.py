"""Containers: the Engine's container lifecycle (see README.md in this package).

``ContainerService`` (``engine.containers``) is the entry point; each operation lives in its
own module (create, start, stop, remove, wait, listing, inspect, logs). Imports nothing at
package import time, so ``engine.containers`` costs only what an operation uses.
"""
