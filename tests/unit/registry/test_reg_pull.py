"""image/pull.py against fake registries: mirrors, layer concurrency, and nothing left on failure."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from dockyard import errors
from dockyard.content.store import ContentStore
from dockyard.image.pull import PullJob, pull
from dockyard.oci import mediatypes, reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.hosts import Endpoint


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


LAYERS = [bytes([i]) * (5000 + i) for i in range(4)]
CONFIG = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": _digest(CONFIG),
            "size": len(CONFIG),
        },
        "layers": [
            {"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": _digest(x), "size": len(x)}
            for x in LAYERS
        ],
    }
).encode()


def _origin(corrupt: bytes | None = None):
    blobs = {_digest(x): x for x in [*LAYERS, CONFIG]}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/manifests/1"):
            return httpx.Response(
                200, content=iter([MANIFEST]), headers={"content-type": mediatypes.OCI_MANIFEST}
            )
        digest = path.rsplit("/", 1)[-1]
        if digest in blobs:
            data = blobs[digest]
            if data == corrupt:
                data = b"X" + data[1:]
            return httpx.Response(200, content=iter([data]))
        return httpx.Response(404)

    return handler


def _client(handler, mirror=False):
    return RegistryClient(
        Endpoint("mirror" if mirror else "origin", "http", False, mirror),
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
    )


class Registered:
    def __init__(self):
        self.calls = []

    def __call__(self, manifest_digest, *, ref, repo_digest, index_digest, on_layer):
        self.calls.append((manifest_digest, str(ref), repo_digest))
        for i, layer in enumerate(LAYERS):
            on_layer(i, _digest(layer))
        return "sha256:" + "1" * 64


def test_mirror_failure_falls_back_to_origin(tmp_path):
    def down(request):
        return httpx.Response(503)

    store = ContentStore(tmp_path)
    register = Registered()
    events = []
    job = PullJob(
        clients=[_client(down, mirror=True), _client(_origin())],
        content=store,
        register=register,
        concurrency=2,
        on_progress=events.append,
    )
    result = pull(job, reference.parse("docker.io/library/app:1"))
    assert result.repo_digest == f"docker.io/library/app@{_digest(MANIFEST)}"
    assert register.calls == [(_digest(MANIFEST), "docker.io/library/app:1", result.repo_digest)]
    assert all(store.read_bytes(_digest(x)) == x for x in LAYERS)
    statuses = [(e.id, e.status) for e in events]
    # two downloads at a time: the others wait
    assert sum(1 for _, s in statuses if s == "Waiting") == 2
    assert sum(1 for _, s in statuses if s == "Pull complete") == 4
    assert events[-1].status == "Status: Downloaded newer image for app:1"


def test_corrupt_layer_leaves_nothing(tmp_path):
    store = ContentStore(tmp_path)
    register = Registered()
    job = PullJob(clients=[_client(_origin(corrupt=LAYERS[2]))], content=store, register=register)
    with pytest.raises(errors.DigestMismatch):
        pull(job, reference.parse("localhost:5000/app:1"))
    assert list(store.walk()) == []
    assert register.calls == []
    assert list((tmp_path / "ingest").iterdir()) == []


def test_present_layers_are_not_downloaded(tmp_path):
    store = ContentStore(tmp_path)
    store.put_bytes(LAYERS[0])
    seen = []
    origin = _origin()

    def handler(request):
        seen.append(request.url.path)
        return origin(request)

    events = []
    job = PullJob(
        clients=[_client(handler)], content=store, register=Registered(), on_progress=events.append
    )
    pull(job, reference.parse("localhost:5000/app:1"))
    assert not any(_digest(LAYERS[0]) in p for p in seen)
    assert (_digest(LAYERS[0]).split(":")[1][:12], "Already exists") in [
        (e.id, e.status) for e in events
    ]
