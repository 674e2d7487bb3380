"""Build test images by hand: layer tars, configs and archives in Docker's or OCI's format,
without any engine, so the engine's readers are tested against independently made input."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

# A layer is a list of entries: (name, content) for files, (name, None) for directories,
# (name, "->target") for symlinks.
Entry = tuple[str, bytes | str | None]


def layer_tar(entries: list[Entry], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(content, str) and content.startswith("->"):
                info.type = tarfile.SYMTYPE
                info.linkname = content[2:]
                tar.addfile(info)
            else:
                data = content.encode() if isinstance(content, str) else content
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class TestImage:
    layers: list[bytes]  # layer blobs (maybe compressed)
    diff_ids: list[str]
    tags: list[str] = field(default_factory=list)
    cmd: list[str] | None = None
    labels: dict[str, str] | None = None

    def config(self) -> bytes:
        doc = {
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": self.cmd or ["sh"], "Labels": self.labels},
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"}
                        for i in range(len(self.layers))],
        }
        return json.dumps(doc).encode()

    @property
    def id(self) -> str:
        return sha256(self.config())


def image(layers: list[list[Entry]], tags: list[str] | None = None, compress: bool = False,
          labels: dict[str, str] | None = None) -> TestImage:
    plain = [layer_tar(entries) for entries in layers]
    blobs = [gzip.compress(p, mtime=0) for p in plain] if compress else plain
    return TestImage(blobs, [sha256(p) for p in plain], tags or [], labels=labels)


def docker_archive(images: list[TestImage]) -> bytes:
    """A pre-25 ``docker save`` archive: <hex>.json configs, <id>/layer.tar, manifest.json."""
    buf = io.BytesIO()
    manifest = []
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        written: set[str] = set()
        for img in images:
            config = img.config()
            add(f"{img.id.split(':')[1]}.json", config)
            paths = []
            for i, blob in enumerate(img.layers):
                layer_dir = hashlib.sha256((img.diff_ids[i] + str(i)).encode()).hexdigest()
                path = f"{layer_dir}/layer.tar"
                if path not in written:
                    add(path, blob)
                    written.add(path)
                paths.append(path)
            manifest.append({"Config": f"{img.id.split(':')[1]}.json", "RepoTags": img.tags or None,
                             "Layers": paths})
        add("manifest.json", json.dumps(manifest).encode())
    return buf.getvalue()


def busybox_rootfs(dest: Path) -> Path:
    """A minimal rootfs with the host's static busybox and its applets."""
    (dest / "bin").mkdir(parents=True)
    (dest / "etc").mkdir()
    (dest / "tmp").mkdir(mode=0o1777)
    busybox = dest / "bin" / "busybox"
    busybox.write_bytes(Path("/bin/busybox").read_bytes())
    busybox.chmod(0o755)
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        if applet != "busybox":
            os.symlink("busybox", dest / "bin" / applet)
    (dest / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (dest / "etc" / "group").write_text("root:x:0:\n")
    return dest


def tar_dir(src: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(src, arcname=".")
    return buf.getvalue()
