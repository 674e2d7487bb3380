"""The OCI distribution client: talk to a registry, pull and push blobs and manifests.

Layer L2: imports only ``dockyard.errors``, ``dockyard.oci`` and other L2 packages' protocols,
never ``image/``, ``service/`` or the shells. The HTTP library (httpx) is imported lazily by
``client.py``, so importing this package's pure modules costs nothing on ``dockyard run``.

Public face:

- ``challenge``: ``WWW-Authenticate`` parsing and token scopes (pure).
- ``manifest``: manifest/index documents and platform selection (pure).
- ``hosts``: which URL, scheme and TLS policy a registry name maps to (daemon.json, env).
- ``credentials``: Docker's ``config.json`` and ``docker-credential-*`` helpers.
- ``client.RegistryClient``: the wire protocol (ping, manifests, blobs, uploads, mounts).
- ``progress``: the progress events pull and push emit.
- ``sources``: which repository a blob came from (for cross-repository mounts).
"""
