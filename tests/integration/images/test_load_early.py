"""``load`` unpacks layers while it still reads the archive; a bad blob or layer anywhere in
the archive leaves the store exactly as it was: no blob, no snapshot, no image."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from _helpers.images import TestImage as _Image
from _helpers.images import docker_archive, image, sha256
from dockyard import errors
from dockyard.image import unpack
from dockyard.oci import mediatypes as mt
from dockyard.service.engine import Engine
from dockyard.service.image_transfer import load_images
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root


def _oci_archive(img: _Image, corrupt: int | None = None) -> bytes:
    """A Docker 25+-style archive: ``blobs/sha256/<hex>`` (layers first), index.json last.
    With *corrupt*, that layer's bytes do not match its name."""
    config = img.config()
    layers = [{"mediaType": mt.OCI_LAYER, "digest": sha256(b), "size": len(b)} for b in img.layers]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": layers,
    }).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": mt.OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
        "annotations": {"io.containerd.image.name": f"docker.io/library/{img.tags[0]}"},
    }]}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for i, blob in enumerate(img.layers):
            data = blob if i != corrupt else blob[:-1] + bytes([blob[-1] ^ 0xFF])
            add(f"blobs/sha256/{sha256(blob).split(':')[1]}", data)
        add(f"blobs/sha256/{sha256(config).split(':')[1]}", config)
        add(f"blobs/sha256/{sha256(manifest).split(':')[1]}", manifest)
        add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add("index.json", index)
    return buf.getvalue()


def _layers(n: int, salt: str) -> list[list[tuple[str, bytes | str | None]]]:
    return [[(f"dir{i}", None), (f"dir{i}/file", f"{salt} {i}".encode() * 500)] for i in range(n)]


@pytest.fixture
def engine(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(unpack, "_EARLY_MIN_BYTES", 0)  # test layers are small
    return Engine(Settings.resolve(data_root))


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The blobs the unpacker was handed while the archive was read."""
    seen: list[str] = []
    original = unpack.Unpacker.early

    def spy(self: unpack.Unpacker, digest: str) -> None:
        seen.append(digest)
        original(self, digest)

    monkeypatch.setattr(unpack.Unpacker, "early", spy)
    return seen


def _state(engine: Engine, data_root: Path) -> tuple[object, ...]:
    return (
        sorted(b.digest for b in engine.content.walk()),
        sorted((i.name, i.parent, i.kind) for i in engine.snapshotter.walk()),
        sorted(p.name for p in (data_root / "snapshots").iterdir()),
        sorted(r.id for r in engine.image_records.all()),
        sorted(p.name for p in (data_root / "content" / "ingest").glob("*")),
    )


def _load(engine: Engine, data: bytes) -> list[str]:
    return load_images(engine, io.BytesIO(data))


@pytest.mark.parametrize("form", ["docker", "oci"])
def test_layers_are_unpacked_while_the_archive_is_read(
    engine: Engine, early: list[str], form: str
) -> None:
    img = image(_layers(3, "x"), tags=["early:1"])
    data = docker_archive([img]) if form == "docker" else _oci_archive(img)
    assert _load(engine, data) == ["Loaded image: early:1"]
    assert set(img.diff_ids) <= set(early)
    record = engine.images.resolve("early:1")
    snaps = {i.name: i for i in engine.snapshotter.walk()}
    assert set(snaps) == {layer.chain_id for layer in record.layers}
    for i, layer in enumerate(record.layers):
        assert snaps[layer.chain_id].parent == (record.layers[i - 1].chain_id if i else None)
        fs = engine.snapshotter.fs_dir(layer.chain_id)
        assert (fs / f"dir{i}" / "file").read_bytes() == f"x {i}".encode() * 500


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_a_corrupt_blob_in_the_archive_leaves_the_store_as_it_was(
    engine: Engine, data_root: Path, early: list[str], bad: int
) -> None:
    _load(engine, _oci_archive(image(_layers(2, "kept"), tags=["kept:1"])))
    before = _state(engine, data_root)
    early.clear()
    img = image(_layers(3, "bad"), tags=["bad:1"])
    with pytest.raises(errors.DigestMismatch):
        _load(engine, _oci_archive(img, corrupt=bad))
    assert early == [sha256(b) for b in img.layers[:bad]]  # they had started
    assert _state(engine, data_root) == before
    assert engine.images.exists("kept:1") and not engine.images.exists("bad:1")


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_a_layer_unlike_its_diff_id_leaves_the_store_as_it_was(
    engine: Engine, data_root: Path, bad: int
) -> None:
    _load(engine, docker_archive([image(_layers(2, "kept"), tags=["kept:1"])]))
    before = _state(engine, data_root)
    img = image(_layers(3, "lying"), tags=["lying:1"])
    img.diff_ids[bad] = "sha256:" + "0" * 64
    with pytest.raises(errors.DigestMismatch, match="diff id"):
        _load(engine, docker_archive([img]))
    assert _state(engine, data_root) == before


def test_a_truncated_archive_leaves_the_store_as_it_was(engine: Engine, data_root: Path) -> None:
    before = _state(engine, data_root)
    data = _oci_archive(image(_layers(3, "cut"), tags=["cut:1"]))
    with pytest.raises(errors.DockyardError):
        _load(engine, data[: len(data) * 2 // 3])
    assert _state(engine, data_root) == before


def test_two_images_sharing_layers_load_from_one_archive(engine: Engine) -> None:
    base = _layers(2, "base")
    one = image(base, tags=["one:1"])
    two = image([*base, [("top", b"top" * 100)]], tags=["two:1"])
    lines = _load(engine, docker_archive([one, two]))
    assert sorted(lines) == ["Loaded image: one:1", "Loaded image: two:1"]
    assert len(list(engine.snapshotter.walk())) == 3
    assert all(i.name.startswith("sha256:") for i in engine.snapshotter.walk())


def test_ctrl_c_during_a_load_leaves_nothing_and_no_traceback(
    data_root: Path, tmp_path: Path
) -> None:
    """Ctrl-C reaches the CLI and its workers alike (one process group)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    layers = [[(f"l{i}/{n}", os.urandom(4096)) for n in range(3000)] for i in range(3)]
    archive = tmp_path / "big.tar"
    archive.write_bytes(docker_archive([image(layers, tags=["big:1"])]))
    engine = Engine(Settings.resolve(data_root))
    before = _state(engine, data_root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockyard", "--root", str(data_root), "load", "-i", str(archive)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    blobs = data_root / "content" / "blobs" / "sha256"
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        if blobs.is_dir() and any(blobs.iterdir()):  # reading the archive, workers started
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # it was done already: then all of it is there
        assert Engine(Settings.resolve(data_root)).images.exists("big:1")
        return
    assert (proc.returncode, b"Traceback" in err) == (130, False), err.decode()
    assert _state(Engine(Settings.resolve(data_root)), data_root) == before
