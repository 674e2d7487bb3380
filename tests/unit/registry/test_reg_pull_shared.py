"""Two pulls sharing a blob: a failing pull never deletes a blob another pull or image uses."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading

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


SHARED, ONLY_A, ONLY_B = b"shared layer" * 500, b"layer of a" * 500, b"layer of b" * 500


def _image(name: str, layers: list[bytes]) -> tuple[bytes, bytes]:
    config = json.dumps({"image": name, "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": _digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": _digest(x), "size": len(x)}
                   for x in layers],
    }).encode()
    return config, manifest


CONFIG_A, MANIFEST_A = _image("a", [SHARED, ONLY_A])
CONFIG_B, MANIFEST_B = _image("b", [SHARED, ONLY_B])


def _client(before_only_a=lambda: None) -> RegistryClient:
    """A registry serving ``a:1`` and ``b:1``; ``a``'s own layer arrives corrupted."""
    manifests = {"a": MANIFEST_A, "b": MANIFEST_B}
    blobs = {_digest(x): x for x in (SHARED, ONLY_A, ONLY_B, CONFIG_A, CONFIG_B)}

    def handler(request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")  # /v2/<repo>/manifests|blobs/<ref>
        if parts[3] == "manifests":
            return httpx.Response(200, content=iter([manifests[parts[2]]]),
                                  headers={"content-type": mediatypes.OCI_MANIFEST})
        data = blobs[parts[4]]
        if data == ONLY_A:
            before_only_a()
            data = b"X" + data[1:]
        return httpx.Response(200, content=iter([data]))

    return RegistryClient(Endpoint("origin", "http", False), transport=httpx.MockTransport(handler),
                          sleep=lambda s: None)


def _job(store, client, lock_dir, register, in_use=set) -> PullJob:
    return PullJob(clients=[client], content=store, register=register, lock_dir=lock_dir,
                   blobs_in_use=in_use, concurrency=1)


def _register(*a, **kw) -> str:
    return "sha256:" + "1" * 64


def test_failing_pull_keeps_the_blob_a_concurrent_pull_is_using(tmp_path):
    store = ContentStore(tmp_path / "content")
    locks = tmp_path / "locks"
    b_registering, a_failed = threading.Event(), threading.Event()

    def before_only_a() -> None:
        assert store.has(_digest(SHARED))  # a downloaded it (concurrency=1: in order)
        threading.Thread(target=pull_b, daemon=True).start()
        assert b_registering.wait(10)  # b found the shared blob present and is using it

    outcome: dict[str, object] = {}

    def register_b(manifest_digest, **kw) -> str:
        b_registering.set()
        assert a_failed.wait(10)
        outcome["shared present while b registers"] = store.has(_digest(SHARED))
        return _register()

    def pull_b() -> None:
        job = _job(store, _client(), locks, register_b)
        outcome["b"] = pull(job, reference.parse("localhost:5000/b:1"))

    client = _client(before_only_a)
    with pytest.raises(errors.DigestMismatch):
        pull(_job(store, client, locks, _register), reference.parse("localhost:5000/a:1"))
    a_failed.set()
    for _ in range(100):
        if "b" in outcome:
            break
        threading.Event().wait(0.05)
    assert outcome["shared present while b registers"] is True
    assert outcome["b"].image_id == _register()  # type: ignore[attr-defined]
    assert store.has(_digest(SHARED))
    # What only the failed pull used is gone.
    assert not store.has(_digest(CONFIG_A)) and not store.has(_digest(ONLY_A))


def test_failing_pull_keeps_blobs_a_recorded_image_references(tmp_path):
    store = ContentStore(tmp_path / "content")
    job = _job(store, _client(), tmp_path / "locks", _register, in_use=lambda: {_digest(SHARED)})
    with pytest.raises(errors.DigestMismatch):
        pull(job, reference.parse("localhost:5000/a:1"))
    assert store.has(_digest(SHARED))
    assert not store.has(_digest(CONFIG_A))


def test_failing_pull_alone_deletes_everything_it_added(tmp_path):
    store = ContentStore(tmp_path / "content")
    with pytest.raises(errors.DigestMismatch):
        pull(_job(store, _client(), tmp_path / "locks", _register), reference.parse("localhost:5000/a:1"))
    assert list(store.walk()) == []


def test_a_pull_waits_while_a_failing_pull_deletes_then_downloads_again(tmp_path):
    """A pull that starts while another one is deleting a blob takes its lease only after the
    deletion, sees the blob missing and downloads it itself."""
    store = ContentStore(tmp_path / "content")
    locks = tmp_path / "locks"
    store.put_bytes(SHARED)
    locks.mkdir()
    fd = os.open(locks / f"blob-{_digest(SHARED).split(':')[1]}", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a failing pull deciding about the shared blob
    done = threading.Event()

    def pull_b() -> None:
        pull(_job(store, _client(), locks, _register), reference.parse("localhost:5000/b:1"))
        done.set()

    threading.Thread(target=pull_b, daemon=True).start()
    assert not done.wait(0.3)  # b waits for the decision
    store.delete(_digest(SHARED))
    os.close(fd)
    assert done.wait(10)
    assert store.read_bytes(_digest(SHARED)) == SHARED
