"""Our archives are read by skopeo, and skopeo's archives load into Dockyard with the same id."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")


def _skopeo(*args: str) -> str:
    proc = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def saved(dockyard, busybox_tar: Path, tmp_path: Path) -> tuple[str, Path]:
    image_id = dockyard.out("import", "-c", "ENV A=1", str(busybox_tar), "interop:1").strip()
    archive = tmp_path / "saved.tar"
    dockyard.run("save", "-o", str(archive), "interop:1")
    return image_id, archive


def test_skopeo_reads_our_save_as_docker_and_oci_archive(saved: tuple[str, Path]) -> None:
    image_id, archive = saved
    docker_view = json.loads(_skopeo("inspect", "--config", f"docker-archive:{archive}"))
    assert docker_view["config"]["Env"] == ["A=1"]
    oci_view = json.loads(_skopeo("inspect", "--config", f"oci-archive:{archive}"))
    assert oci_view["rootfs"] == docker_view["rootfs"]
    raw = json.loads(_skopeo("inspect", "--raw", f"oci-archive:{archive}"))
    assert raw["config"]["digest"] == image_id


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_archives_made_by_skopeo_load_with_the_same_id(saved, dockyard, data_root: Path, tmp_path: Path, transport: str) -> None:
    image_id, archive = saved
    copied = tmp_path / f"copy-{transport}.tar"
    target = f"{transport}:{copied}:" + ("interop:copied" if transport == "docker-archive" else "docker.io/library/interop:copied")
    _skopeo("copy", f"docker-archive:{archive}", target)
    # The image id is the digest of the config in skopeo's archive (skopeo may rewrite the
    # config when it converts to OCI; the docker-archive copy keeps ours byte for byte).
    expected = json.loads(_skopeo("inspect", "--raw", f"{transport}:{copied}"))["config"]["digest"]
    if transport == "docker-archive":
        assert expected == image_id
    other = type(dockyard)(data_root / f"from-{transport}")
    out = other.out("load", "-i", str(copied))
    assert out.strip() == "Loaded image: interop:copied"
    listed = other.out("images", "--no-trunc", "--format", "{{.ID}}").split()
    assert listed == [expected]
