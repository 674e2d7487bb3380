"""Pulling from a real registry: platforms, digests, all tags, and failures that leave nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.image import unpack
from dockyard.image.push import push as push_image
from dockyard.oci import reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.hosts import Endpoint
from dockyard.service import registry as service
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root


def _engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("dockyard-test-root")
    return Engine(Settings(root=root, exec_root=root / "run"))


def _upload(host: str, name: str, store, manifest_digest: str) -> None:
    with RegistryClient(Endpoint(host, "http", False)) as client:
        push_image(client, reference.parse(name), manifest_digest, store)


def _blobs(engine: Engine) -> set[str]:
    return {b.digest for b in engine.content.walk()}


def test_multi_platform_index_pulls_the_requested_platform(
    registry, builders, docker_config, tmp_path_factory
):
    src = _engine(tmp_path_factory)
    amd = builders.image(src.content, [{"arch": b"amd64\n"}], arch="amd64")
    arm = builders.image(src.content, [{"arch": b"arm64\n"}], arch="arm64")
    index_digest, _ = builders.index(src.content, {"linux/amd64": amd, "linux/arm64/v8": arm})
    name = f"{registry.host}/multi/app:latest"
    _upload(registry.host, name, src.content, index_digest)

    dst = _engine(tmp_path_factory)
    [default] = service.pull(dst, name)
    assert default.manifest_digest == amd.manifest_digest  # this host is linux/amd64
    assert default.repo_digest == f"{registry.host}/multi/app@{index_digest}"
    [other] = service.pull(dst, name, platform="linux/arm64")
    assert other.image_id == arm.config_digest
    assert dst.images.resolve(name).id == arm.config_digest
    with pytest.raises(errors.NotFound, match="no matching manifest for linux/s390x"):
        service.pull(dst, name, platform="linux/s390x")


def test_pull_by_digest_and_all_tags(registry, builders, docker_config, tmp_path_factory):
    src = _engine(tmp_path_factory)
    one = builders.image(src.content, [{"v": b"1"}], docker=True)
    two = builders.image(src.content, [{"v": b"2"}], docker=True)
    _upload(registry.host, f"{registry.host}/lib/tool:1", src.content, one.manifest_digest)
    _upload(registry.host, f"{registry.host}/lib/tool:2", src.content, two.manifest_digest)

    dst = _engine(tmp_path_factory)
    [by_digest] = service.pull(dst, f"{registry.host}/lib/tool@{two.manifest_digest}")
    assert by_digest.image_id == two.config_digest
    assert (
        dst.images.resolve(f"{registry.host}/lib/tool@{two.manifest_digest}").id
        == two.config_digest
    )

    results = service.pull(dst, f"{registry.host}/lib/tool", all_tags=True)
    assert [str(r.reference) for r in results] == [
        f"{registry.host}/lib/tool:1",
        f"{registry.host}/lib/tool:2",
    ]
    assert dst.images.resolve(f"{registry.host}/lib/tool:1").id == one.config_digest


def test_missing_tag_is_not_found(registry, docker_config, tmp_path_factory):
    dst = _engine(tmp_path_factory)
    with pytest.raises(errors.NotFound, match="manifest unknown"):
        service.pull(dst, f"{registry.host}/nothing/here:nope")


def test_corrupted_blob_fails_and_leaves_nothing(
    registry, builders, docker_config, proxy_factory, tmp_path_factory
):
    src = _engine(tmp_path_factory)
    image = builders.image(src.content, [{"a": b"a" * 1000}, {"b": b"b" * 1000}])
    _upload(registry.host, f"{registry.host}/bad/app:1", src.content, image.manifest_digest)
    proxy = proxy_factory(registry, "corrupt")

    dst = _engine(tmp_path_factory)
    name = f"{proxy.host}/bad/app:1"
    with pytest.raises(errors.DigestMismatch, match="digest mismatch"):
        service.pull(dst, name)
    assert _blobs(dst) == set()
    assert not dst.images.exists(name)
    assert list((dst.settings.root / "content" / "ingest").iterdir()) == []


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_a_corrupted_layer_among_layers_unpacking_early_leaves_nothing(
    registry, builders, docker_config, proxy_factory, tmp_path_factory, monkeypatch, bad
):
    monkeypatch.setattr(unpack, "_EARLY_MIN_BYTES", 0)
    started: list[str] = []
    original = unpack.Unpacker.early
    monkeypatch.setattr(
        unpack.Unpacker, "early", lambda self, d: (started.append(d), original(self, d))[1]
    )
    src = _engine(tmp_path_factory)
    layers = [{f"f{i}": random.randbytes(200_000)} for i in range(3)]
    image = builders.image(src.content, layers)
    _upload(registry.host, f"{registry.host}/mid/app:1", src.content, image.manifest_digest)
    proxy = proxy_factory(registry, "corrupt")
    proxy.target = image.layers[bad]

    dst = _engine(tmp_path_factory)
    kept = builders.image(dst.content, [{"kept": b"kept"}])
    dst.images.register(kept.manifest_digest)
    before = (_blobs(dst), sorted(i.name for i in dst.snapshotter.walk()))
    name = f"{proxy.host}/mid/app:1"
    with pytest.raises(errors.DigestMismatch, match="digest mismatch"):
        service.pull(dst, name)
    assert set(started) <= set(image.layers) - {image.layers[bad]}
    assert (_blobs(dst), sorted(i.name for i in dst.snapshotter.walk())) == before
    assert len(list((dst.settings.root / "snapshots").iterdir())) == 1
    assert not dst.images.exists(name)
    assert list((dst.settings.root / "content" / "ingest").iterdir()) == []

    proxy.mode = "pass"  # and the same pull through the early path succeeds
    service.pull(dst, name)
    record = dst.images.resolve(name)
    assert set(started) >= set(image.layers)
    assert {i.name for i in dst.snapshotter.walk()} >= {x.chain_id for x in record.layers}
    assert all(i.kind.value == "committed" for i in dst.snapshotter.walk())


def test_corrupted_manifest_is_refused(
    registry, builders, docker_config, proxy_factory, tmp_path_factory
):
    src = _engine(tmp_path_factory)
    image = builders.image(src.content, [{"a": b"a"}])
    _upload(registry.host, f"{registry.host}/bad/man:1", src.content, image.manifest_digest)
    proxy = proxy_factory(registry, "corrupt-manifest")

    dst = _engine(tmp_path_factory)
    with pytest.raises(errors.DigestMismatch):
        service.pull(dst, f"{proxy.host}/bad/man@{image.manifest_digest}")
    with pytest.raises(errors.DigestMismatch):
        service.pull(dst, f"{proxy.host}/bad/man:1")
    assert _blobs(dst) == set()


def test_broken_connection_resumes_with_range(
    registry, builders, docker_config, proxy_factory, tmp_path_factory
):
    src = _engine(tmp_path_factory)
    payload = random.Random(7).randbytes(1 << 20)  # 1 MiB that gzip cannot shrink
    image = builders.image(src.content, [{"big": payload}])
    _upload(registry.host, f"{registry.host}/flaky/app:1", src.content, image.manifest_digest)
    proxy = proxy_factory(registry, "cut")

    dst = _engine(tmp_path_factory)
    [result] = service.pull(dst, f"{proxy.host}/flaky/app:1")
    assert result.image_id == image.config_digest
    assert proxy.cuts == 1
    assert (
        len(proxy.ranges) == 1
        and proxy.ranges[0].startswith("bytes=")
        and proxy.ranges[0] != "bytes=0-"
    )
    assert dst.content.read_bytes(image.layers[0]) == src.content.read_bytes(image.layers[0])


def test_chunked_upload_of_a_large_blob(registry, builders, tmp_path: Path, tmp_path_factory):
    src = _engine(tmp_path_factory)
    image = builders.image(src.content, [{"big": random.Random(8).randbytes(300_000)}])
    size = src.content.info(image.layers[0]).size
    assert size > 3 * 65536
    with RegistryClient(Endpoint(registry.host, "http", False)) as client:
        push_image(
            client,
            reference.parse(f"{registry.host}/chunky/app:1"),
            image.manifest_digest,
            src.content,
            chunk_size=65536,
        )
    assert builders.get(
        registry, f"/v2/chunky/app/blobs/{image.layers[0]}"
    ) == src.content.read_bytes(image.layers[0])
