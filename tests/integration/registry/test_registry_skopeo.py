"""Interoperability with skopeo: what we push it reads, what it pushes we pull."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dockyard.oci import reference
from dockyard.service import registry as service
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed"),
]


def _engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("dockyard-test-root")
    return Engine(Settings(root=root, exec_root=root / "run"))


def _skopeo(*args: str) -> str:
    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_skopeo_reads_what_we_push(registry, builders, docker_config, tmp_path, tmp_path_factory):
    src = _engine(tmp_path_factory)
    image = builders.image(src.content, [{"a": b"alpha"}, {"b": b"beta"}], docker=True)
    name = f"{registry.host}/interop/ours:1"
    src.images.register(image.manifest_digest, ref=reference.parse(name))
    service.push(src, name)

    info = json.loads(_skopeo("inspect", "--tls-verify=false", f"docker://{name}"))
    assert info["Digest"] == image.manifest_digest
    assert info["Layers"] == image.layers
    out = tmp_path / "copy"
    _skopeo("copy", "--src-tls-verify=false", f"docker://{name}", f"dir:{out}")
    for digest in image.layers:
        assert (out / digest.split(":")[1]).read_bytes() == src.content.read_bytes(digest)


def test_we_pull_what_skopeo_pushes(
    registry, builders, docker_config, tmp_path: Path, tmp_path_factory
):
    scratch = _engine(tmp_path_factory)
    image = builders.image(scratch.content, [{"x": b"from skopeo"}, {"y": b"second"}])
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    for blob in scratch.content.walk():
        shutil.copy(
            scratch.content.path(blob.digest),
            layout / "blobs" / "sha256" / blob.digest.split(":")[1],
        )
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": image.media_type,
                        "digest": image.manifest_digest,
                        "size": len(image.manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "v1"},
                    }
                ],
            }
        )
    )
    name = f"{registry.host}/interop/theirs:v1"
    _skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{name}")

    dst = _engine(tmp_path_factory)
    [pulled] = service.pull(dst, name)
    assert pulled.image_id == image.config_digest
    assert dst.images.resolve(name).id == image.config_digest
    for digest in image.layers:
        assert dst.content.read_bytes(digest) == scratch.content.read_bytes(digest)
