"""image/push.py copying an index's missing platforms from its origin (fake registries)."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from dockyard import errors
from dockyard.content.store import ContentStore
from dockyard.image.push import Origin, push
from dockyard.oci import mediatypes, reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.hosts import Endpoint


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest(config: bytes, layers: list[bytes]) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": _digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": _digest(x), "size": len(x)}
                   for x in layers],
    }).encode()


AMD_CONFIG, AMD_LAYER = b'{"architecture":"amd64"}', b"amd64 layer" * 100
ARM_CONFIG, ARM_LAYER = b'{"architecture":"arm64"}', b"arm64 layer" * 100
AMD, ARM = _manifest(AMD_CONFIG, [AMD_LAYER]), _manifest(ARM_CONFIG, [ARM_LAYER])
INDEX = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [
    {"mediaType": mediatypes.OCI_MANIFEST, "digest": _digest(AMD), "size": len(AMD),
     "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": mediatypes.OCI_MANIFEST, "digest": _digest(ARM), "size": len(ARM),
     "platform": {"os": "linux", "architecture": "arm64"}},
]}).encode()


class Target:
    """A registry that accepts uploads and manifests, checking digests as a real one does."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.uploads: dict[str, bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "HEAD":
            digest = path.rsplit("/", 1)[1]
            return httpx.Response(200 if digest in self.blobs else 404)
        if request.method == "POST":
            uid = str(len(self.uploads))
            self.uploads[uid] = b""
            return httpx.Response(202, headers={"location": f"/v2/app/blobs/uploads/{uid}"})
        if "/blobs/uploads/" in path:
            uid = path.rsplit("/", 1)[1]
            self.uploads[uid] += request.content
            if request.method == "PATCH":
                return httpx.Response(202, headers={"location": path})
            digest = request.url.params["digest"]
            if _digest(self.uploads[uid]) != digest:
                return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID"}]})
            self.blobs[digest] = self.uploads[uid]
            return httpx.Response(201)
        if "/manifests/" in path and request.method == "PUT":
            self.manifests[path.rsplit("/", 1)[1]] = request.content
            return httpx.Response(201)
        return httpx.Response(404)


def _origin(corrupt: bytes | None = None) -> httpx.MockTransport:
    docs = {_digest(d): d for d in (AMD, ARM)}
    blobs = {_digest(b): b for b in (ARM_CONFIG, ARM_LAYER, AMD_CONFIG, AMD_LAYER)}

    def handler(request: httpx.Request) -> httpx.Response:
        ref = request.url.path.rsplit("/", 1)[1]
        if "/manifests/" in request.url.path and ref in docs:
            return httpx.Response(200, content=iter([docs[ref]]),
                                  headers={"content-type": mediatypes.OCI_MANIFEST})
        if ref in blobs:
            data = blobs[ref]
            return httpx.Response(200, content=iter([b"!" + data[1:] if data == corrupt else data]))
        return httpx.Response(404)

    return httpx.MockTransport(handler)


def _client(host: str, transport: httpx.BaseTransport) -> RegistryClient:
    return RegistryClient(Endpoint(host, "http", False), transport=transport, sleep=lambda s: None)


def _local(tmp_path) -> ContentStore:
    """A store holding what a pull of the amd64 platform leaves: the index, amd64 only."""
    store = ContentStore(tmp_path)
    for data in (INDEX, AMD, AMD_CONFIG, AMD_LAYER):
        store.put_bytes(data)
    return store


def test_missing_platform_is_copied_from_the_origin_registry(tmp_path):
    target = Target()
    origin = Origin(_client("origin:5000", _origin()), "origin:5000", "library/app")
    result = push(_client("target:5000", httpx.MockTransport(target)),
                  reference.parse("target:5000/app:1"), _digest(INDEX), _local(tmp_path),
                  origin=origin)
    assert result.digest == _digest(INDEX)
    assert target.manifests["1"] == INDEX
    assert target.manifests[_digest(ARM)] == ARM
    assert target.blobs[_digest(ARM_LAYER)] == ARM_LAYER
    assert target.blobs[_digest(AMD_LAYER)] == AMD_LAYER
    # streamed through, not stored locally
    assert not _local(tmp_path).has(_digest(ARM_LAYER))


def test_a_corrupt_blob_from_the_origin_stops_the_push_before_the_index(tmp_path):
    target = Target()
    origin = Origin(_client("origin:5000", _origin(corrupt=ARM_LAYER)), "origin:5000", "app")
    with pytest.raises(errors.DigestMismatch, match=_digest(ARM_LAYER)):
        push(_client("target:5000", httpx.MockTransport(target)),
             reference.parse("target:5000/app:1"), _digest(INDEX), _local(tmp_path),
             origin=origin)
    assert "1" not in target.manifests
    assert _digest(ARM_LAYER) not in target.blobs


def test_without_an_origin_a_partial_index_is_refused(tmp_path):
    with pytest.raises(errors.FailedPrecondition, match="platform manifest"):
        push(_client("target:5000", httpx.MockTransport(Target())),
             reference.parse("target:5000/app:1"), _digest(INDEX), _local(tmp_path))
