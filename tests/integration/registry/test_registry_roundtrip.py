"""Push then pull through a real registry: the bytes and the image survive the round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.oci import reference
from dockyard.service import registry as service
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root


def _engine(root: Path) -> Engine:
    return Engine(Settings(root=root, exec_root=root / "run"))


def _tag(engine: Engine, ref: str, manifest_digest: str) -> None:
    """Register an image built straight into the content store under *ref*."""
    engine.images.register(manifest_digest, ref=reference.parse(ref).with_default_tag())


def test_push_then_pull_multi_layer_image(registry, builders, docker_config, tmp_path_factory):
    src = _engine(tmp_path_factory.mktemp("dockyard-test-root"))
    image = builders.image(
        src.content,
        [
            {"etc/hello": b"hello\n"},
            {"usr/bin/tool": b"#!/bin/sh\necho tool\n"},
            {"data/x": b"x" * 50_000},
        ],
    )
    name = f"{registry.host}/team/app:1.0"
    _tag(src, name, image.manifest_digest)
    events = []
    result = service.push(src, name, on_progress=events.append)
    assert result.digest == image.manifest_digest
    statuses = [e.status for e in events]
    assert statuses[0] == f"The push refers to repository [{registry.host}/team/app]"
    assert statuses.count("Pushed") == 3
    assert statuses[-1] == f"1.0: digest: {image.manifest_digest} size: {len(image.manifest)}"
    # The registry serves exactly our manifest bytes.
    served = builders.get(registry, "/v2/team/app/manifests/1.0")
    assert served == image.manifest

    dst = _engine(tmp_path_factory.mktemp("dockyard-test-root"))
    events = []
    [pulled] = service.pull(dst, name, on_progress=events.append)
    record = dst.images.resolve(name)
    assert record.id == image.config_digest
    assert record.manifest_digest == image.manifest_digest
    assert f"{registry.host}/team/app@{image.manifest_digest}" in record.repo_digests
    for digest in image.layers:
        assert dst.content.read_bytes(digest) == src.content.read_bytes(digest)
    lines = [e.status if e.id is None else f"{e.id}: {e.status}" for e in events]
    assert lines[0] == "1.0: Pulling from team/app"
    assert lines[-1] == f"Status: Downloaded newer image for {name}"
    assert sum(1 for e in events if e.status == "Pull complete") == 3
    assert not pulled.up_to_date

    # Pulling again downloads nothing and says so.
    events = []
    [again] = service.pull(dst, name, on_progress=events.append)
    assert again.up_to_date
    assert events[-1].status == f"Status: Image is up to date for {name}"
