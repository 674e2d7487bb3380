"""The engine's registry operations: pull, push, login and logout.

Wires the pieces together: registry endpoints and TLS policy from ``<root>/daemon.json`` and
the environment, credentials from Docker's ``config.json``, the content store, the image
store's ``register``, and the blob-source table for cross-repository mounts. The shells call
these functions and render the progress events they emit.

Imports httpx only through ``registry.client``, itself imported only inside these functions,
so ``dockyard run`` of a local image never loads it. No click, no HTTP server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.oci import reference
from dockyard.registry.credentials import Credentials, CredentialStore
from dockyard.registry.hosts import RegistryConfig, credential_key, host_of
from dockyard.registry.progress import ProgressFn, ignore

if TYPE_CHECKING:
    from dockyard.image.pull import PullResult
    from dockyard.image.push import Origin, PushResult
    from dockyard.registry.client import RegistryClient
    from dockyard.registry.sources import BlobSources
    from dockyard.service.engine import Engine

__all__ = ["login", "logout", "pull", "push"]


def _config(engine: Engine) -> RegistryConfig:
    return RegistryConfig.load(engine.settings.root)


@contextmanager
def _clients(
    engine: Engine, domain: str, *, push: bool = False, store: CredentialStore | None = None
) -> Iterator[list[RegistryClient]]:
    from dockyard.registry.client import RegistryClient

    creds = store if store is not None else CredentialStore()
    with ExitStack() as stack:
        clients = []
        for endpoint in _config(engine).endpoints(domain, push=push):
            who = creds.get(endpoint.host if endpoint.mirror else domain)
            clients.append(stack.enter_context(RegistryClient(endpoint, who)))
        yield clients


def _sources(engine: Engine) -> BlobSources:
    from dockyard.registry.sources import BlobSources

    return BlobSources(engine.db)


def pull(
    engine: Engine,
    name: str,
    *,
    all_tags: bool = False,
    platform: str | None = None,
    concurrency: int | None = None,
    on_progress: ProgressFn = ignore,
    credentials: CredentialStore | None = None,
) -> list[PullResult]:
    """``docker pull``: one result, or one per tag with *all_tags*.

    *concurrency* (layers downloaded at once) defaults to ``max-concurrent-downloads`` of
    ``<root>/daemon.json``, else 3.

    Raises InvalidArgument (bad reference or platform), NotFound, PermissionDenied,
    DigestMismatch, Unavailable.
    """
    import functools

    from dockyard.image.pull import PullJob, pull_all_tags
    from dockyard.image.pull import pull as pull_one
    from dockyard.image.unpack import Unpacker
    from dockyard.oci import platform as platforms

    ref = reference.parse(name)
    want = platforms.parse(platform) if platform else platforms.host()

    def current(target: reference.Reference, manifest_digest: str) -> str | None:
        try:
            record = engine.images.resolve(str(target))
        except errors.NotFound:
            return None
        return record.id if record.manifest_digest == manifest_digest else None

    with (
        _clients(engine, ref.domain, store=credentials) as clients,
        Unpacker(engine.content, engine.snapshotter, engine.lock_dir) as unpacker,
    ):
        job = PullJob(
            clients=clients,
            content=engine.content,
            register=functools.partial(engine.images.register, unpacker=unpacker),
            unpacker=unpacker,
            current=current,
            platform=want,
            concurrency=concurrency or _config(engine).max_concurrent_downloads,
            on_progress=on_progress,
            sources=_sources(engine),
            lock_dir=engine.lock_dir,
            blobs_in_use=lambda: (
                engine.image_records.blobs_in_use() | engine.images.extra_blobs_in_use()
            ),
        )
        if all_tags:
            return pull_all_tags(job, ref)
        return [pull_one(job, ref)]


def push(
    engine: Engine,
    name: str,
    *,
    on_progress: ProgressFn = ignore,
    credentials: CredentialStore | None = None,
) -> PushResult:
    """``docker push NAME[:TAG]``: the local image *name* (``:latest`` by default).

    An image pulled from a multi-platform index is pushed as that whole index (same digest):
    the platforms not held locally are copied from the repository the index was pulled from.
    When that repository is unknown, only the local platform's manifest is pushed.

    Raises NotFound (no such local image), PermissionDenied, InvalidArgument, DigestMismatch,
    Unavailable.
    """
    from dockyard.image.push import push as push_image

    ref = reference.parse(name).with_default_tag()
    try:
        record = engine.images.resolve(str(ref))
    except errors.NotFound as exc:
        raise errors.NotFound(
            f"An image does not exist locally with the tag: {ref.familiar_name()}"
        ) from exc
    sources = _sources(engine)
    top: str = record.manifest_digest
    media_type: str | None = record.manifest_media_type
    origin_at: tuple[str, str] | None = None
    if record.index_digest and engine.content.has(record.index_digest):
        origin_at = next(iter(sources.locations(record.index_digest)), None)
        if origin_at is not None or _complete(engine, record.index_digest):
            top, media_type = record.index_digest, None  # the index says its own type
    with ExitStack() as stack:
        clients = stack.enter_context(_clients(engine, ref.domain, push=True, store=credentials))
        origin = None
        if origin_at is not None and top == record.index_digest:
            origin = _origin(stack, engine, origin_at, credentials)
        return push_image(
            clients[0],
            ref,
            top,
            engine.content,
            media_type=media_type,
            sources=sources,
            on_progress=on_progress,
            concurrency=_config(engine).max_concurrent_uploads,
            origin=origin,
        )


def _complete(engine: Engine, index_digest: str) -> bool:
    """Does the local store hold every manifest *index_digest* lists, and their blobs?"""
    from dockyard.registry.manifest import descriptors, index_entries, parse_document

    content = engine.content
    try:
        index = parse_document(
            content.read_bytes(index_digest), None, index_digest, f"index {index_digest}"
        )
        for entry in index_entries(index):
            if not content.has(entry.digest):
                return False
            child = parse_document(
                content.read_bytes(entry.digest), entry.media_type or None, entry.digest,
                f"manifest {entry.digest}",
            )
            config, layers = descriptors(child)
            if not all(content.has(d.digest) for d in [config, *layers]):
                return False
    except (errors.InvalidArgument, errors.NotFound):
        return False
    return True


def _origin(
    stack: ExitStack,
    engine: Engine,
    location: tuple[str, str],
    credentials: CredentialStore | None,
) -> Origin:
    """A client of the registry an index was pulled from (its origin, not a mirror)."""
    from dockyard.image.push import Origin

    domain, path = location
    clients = stack.enter_context(_clients(engine, domain, store=credentials))
    client = next((c for c in clients if not c.endpoint.mirror), clients[-1])
    return Origin(client, domain, path)


def login(
    engine: Engine,
    server: str | None,
    username: str,
    password: str,
    *,
    credentials: CredentialStore | None = None,
) -> str:
    """Check *username*/*password* against the registry, then store them; returns the key.

    Nothing is stored when the registry refuses them. Raises PermissionDenied, Unavailable,
    InvalidArgument (empty username or password).
    """
    from dockyard.registry.client import RegistryClient

    if not username or not password:
        raise errors.InvalidArgument("username and password are required")
    domain = host_of(server or "docker.io")
    creds = Credentials(username, password)
    endpoint = _config(engine).endpoints(domain, push=True)[0]
    with RegistryClient(endpoint, creds) as client:
        client.ping()
        challenge = client.auth.challenge
        if challenge is not None and challenge.scheme == "bearer":
            client.auth.header([])  # a token request with the credentials proves them
    store = credentials if credentials is not None else CredentialStore()
    store.store(domain, creds)
    return credential_key(domain)


def logout(server: str | None, *, credentials: CredentialStore | None = None) -> bool:
    """Forget the credentials of *server* (docker.io by default); False if there were none."""
    store = credentials if credentials is not None else CredentialStore()
    return store.erase(server or "docker.io")
