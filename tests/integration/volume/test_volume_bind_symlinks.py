"""A bind mount never lets the container reach outside the named host path.

The bind source is resolved on the host (``realpath``) before the runtime binds it; symlinks
*inside* the bound directory are resolved by the kernel when the container follows them,
inside the container's mount namespace after pivot_root: an absolute link names a path of
the container, and ``..`` stops at the container's root. Shown here with the builtin runtime.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _helpers.images import busybox_rootfs
from dockyard.runtime.spec import ContainerSpec, generate
from dockyard.volume import oci_mount, parse_volume, resolve_bind_source

pytestmark = pytest.mark.root


def _run(data_root: Path, bundle: Path, cid: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dockyard.runtime.builtin", "--root", str(data_root / "state"),
            "run", "--bundle", str(bundle), cid]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_symlinks_inside_a_bind_resolve_inside_the_container(data_root: Path) -> None:
    # The same absolute path holds different files on the host and in the container.
    marker = data_root / "marker"
    marker.write_text("host\n")
    bundle = data_root / "bundle"
    rootfs = bundle / "rootfs"
    busybox_rootfs(rootfs)
    in_rootfs = rootfs / str(marker).lstrip("/")
    in_rootfs.parent.mkdir(parents=True)
    in_rootfs.write_text("container\n")

    shared = data_root / "shared"
    shared.mkdir()
    (shared / "abs").symlink_to(marker)  # absolute link to the host's marker path
    (shared / "up").symlink_to("../" * 12)  # tries to climb out of the bind
    (data_root / "alias").symlink_to(shared)  # the user names the source through a link

    spec = parse_volume(f"{data_root}/alias:/data")
    source = resolve_bind_source(spec)
    assert source == str(shared)  # resolved on the host: no symlink left for the runtime
    script = (f"cat /data/abs; cat /data/up{marker}; echo written > /data/abs; "
              "ls /data/up/ | tr '\\n' ' '")  # fmt: skip
    config = generate(ContainerSpec(args=("sh", "-c", script), mounts=(oci_mount(spec, source),)))
    (bundle / "config.json").write_text(json.dumps(config))

    out = _run(data_root, bundle, "bindsafe")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["container", "container"]  # both links led into the container
    assert "bin" in lines[2].split() and "data" in lines[2].split()  # `..` stopped at its /
    assert marker.read_text() == "host\n"  # the host's file was never reached
    assert in_rootfs.read_text() == "written\n"  # the write landed in the container's file
    assert (shared / "abs").is_symlink()  # and the link itself is untouched


def test_readonly_bind_refuses_writes_but_the_host_still_can(data_root: Path) -> None:
    bundle = data_root / "bundle"
    busybox_rootfs(bundle / "rootfs")
    host = data_root / "ro-src"
    spec = parse_volume(f"{host}:/ro:ro")
    source = resolve_bind_source(spec)  # -v creates the missing host directory
    assert host.is_dir()
    config = generate(ContainerSpec(args=("sh", "-c", "touch /ro/x || echo refused"),
                                    mounts=(oci_mount(spec, source),)))  # fmt: skip
    (bundle / "config.json").write_text(json.dumps(config))
    out = _run(data_root, bundle, "bindro")
    assert out.returncode == 0, out.stderr
    assert "refused" in out.stdout and "Read-only file system" in out.stderr
    assert list(host.iterdir()) == []
