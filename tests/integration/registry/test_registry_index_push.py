"""Pushing an image pulled from a multi-platform index pushes the whole index, same digest."""

from __future__ import annotations

import pytest

from dockyard.image.push import push as push_image
from dockyard.oci import reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.hosts import Endpoint
from dockyard.service import registry as service
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root
USER, PASSWORD = "alice", "wonderland"


def _engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("dockyard-test-root")
    return Engine(Settings(root=root, exec_root=root / "run"))


def _published_index(registry, builders, tmp_path_factory, name: str):
    """An amd64 + arm64 index pushed to *name*; returns (index digest, bytes, arm image)."""
    src = _engine(tmp_path_factory)
    amd = builders.image(src.content, [{"arch": b"amd64\n"}, {"etc/os": b"x\n"}], arch="amd64")
    arm = builders.image(src.content, [{"arch": b"arm64\n"}, {"etc/os": b"y\n"}], arch="arm64")
    digest, data = builders.index(src.content, {"linux/amd64": amd, "linux/arm64/v8": arm})
    with RegistryClient(Endpoint(registry.host, "http", False)) as client:
        push_image(client, reference.parse(name), digest, src.content)
    return digest, data, arm


def test_index_round_trip_to_another_repository_of_the_same_registry(
    registry, builders, docker_config, tmp_path_factory
):
    origin = f"{registry.host}/multi/app:1"
    index_digest, index_data, arm = _published_index(registry, builders, tmp_path_factory, origin)
    eng = _engine(tmp_path_factory)
    [pulled] = service.pull(eng, origin)  # this host's platform only
    assert not eng.content.has(arm.manifest_digest)
    target = f"{registry.host}/copy/app:2"
    eng.images.tag(origin, target)
    events = []
    result = service.push(eng, target, on_progress=events.append)
    assert result.digest == index_digest
    assert builders.get(registry, "/v2/copy/app/manifests/2") == index_data
    # The other platform's manifest and blobs are there too: mounted, not uploaded from here.
    assert builders.get(registry, f"/v2/copy/app/manifests/{arm.manifest_digest}") == arm.manifest
    assert any(e.status == "Mounted from multi/app" for e in events)
    # And another engine pulls the arm64 image from the copy.
    other = _engine(tmp_path_factory)
    [arm_pull] = service.pull(other, target, platform="linux/arm64")
    assert arm_pull.image_id == arm.config_digest
    assert arm_pull.repo_digest == f"{registry.host}/copy/app@{index_digest}"
    assert pulled.repo_digest == f"{registry.host}/multi/app@{index_digest}"


def test_index_round_trip_to_another_registry_keeps_the_index_digest(
    registry, basic_registry, builders, docker_config, tmp_path_factory
):
    origin = f"{registry.host}/multi/app:1"
    index_digest, index_data, arm = _published_index(registry, builders, tmp_path_factory, origin)
    eng = _engine(tmp_path_factory)
    service.pull(eng, origin)
    blobs_before = {b.digest for b in eng.content.walk()}
    service.login(eng, basic_registry.host, USER, PASSWORD)
    target = f"{basic_registry.host}/mirror/app:1"
    eng.images.tag(origin, target)
    result = service.push(eng, target)
    assert result.digest == index_digest
    # Copied through, not kept: the local store holds what it held before.
    assert {b.digest for b in eng.content.walk()} == blobs_before
    other = _engine(tmp_path_factory)
    service.login(other, basic_registry.host, USER, PASSWORD)
    [arm_pull] = service.pull(other, target, platform="linux/arm64")
    assert arm_pull.image_id == arm.config_digest
    assert arm_pull.repo_digest == f"{basic_registry.host}/mirror/app@{index_digest}"
    for digest in arm.layers:
        assert other.content.has(digest)
    assert index_data == other.content.read_bytes(index_digest)


def test_without_a_known_origin_only_the_local_platform_is_pushed(
    registry, builders, docker_config, tmp_path_factory
):
    origin = f"{registry.host}/multi/app:1"
    index_digest, _, _ = _published_index(registry, builders, tmp_path_factory, origin)
    eng = _engine(tmp_path_factory)
    [pulled] = service.pull(eng, origin)
    with eng.db.tx() as conn:  # as if pulled before sources were recorded
        conn.execute("DELETE FROM registry_blob_sources")
    target = f"{registry.host}/single/app:1"
    eng.images.tag(origin, target)
    result = service.push(eng, target)
    assert result.digest == pulled.manifest_digest != index_digest


def test_an_index_held_whole_locally_is_pushed_whole(
    registry, builders, docker_config, tmp_path_factory
):
    eng = _engine(tmp_path_factory)
    amd = builders.image(eng.content, [{"arch": b"amd64\n"}], arch="amd64")
    arm = builders.image(eng.content, [{"arch": b"arm64\n"}], arch="arm64")
    digest, data = builders.index(eng.content, {"linux/amd64": amd, "linux/arm64": arm})
    name = f"{registry.host}/local/multi:1"
    eng.images.register(
        amd.manifest_digest, ref=reference.parse(name), index_digest=digest
    )
    assert service.push(eng, name).digest == digest
    assert builders.get(registry, "/v2/local/multi/manifests/1") == data
    assert builders.get(registry, f"/v2/local/multi/manifests/{arm.manifest_digest}") == arm.manifest
