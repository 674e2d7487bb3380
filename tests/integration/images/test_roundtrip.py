"""import → images → inspect → save → load, through the real CLI on a real overlay store."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

from _helpers.images import docker_archive, image


def test_import_list_inspect_save_load_roundtrip(dockyard, busybox_tar: Path, tmp_path: Path, data_root: Path) -> None:
    image_id = dockyard.out("import", "-c", 'CMD ["sh"]', "-m", "first", str(busybox_tar), "busybox:latest").strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71

    listing = dockyard.out("images").splitlines()
    assert listing[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert listing[1].split()[:3] == ["busybox", "latest", image_id[7:19]]

    info = dockyard.inspect("busybox")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["busybox:latest"]
    assert info["Config"]["Cmd"] == ["sh"]
    assert info["Comment"] == "first"
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    assert info["Os"] == "linux" and info["Size"] > 1_000_000

    archive = tmp_path / "out.tar"
    dockyard.run("save", "-o", str(archive), "busybox")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= names
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "docker.io/library/busybox:latest"

    other = type(dockyard)(data_root / "second-root")
    assert other.out("load", "-i", str(archive)).strip() == "Loaded image: busybox:latest"
    again = other.inspect("busybox:latest")
    assert again["Id"] == image_id
    assert again["RootFS"] == info["RootFS"]
    # loading the same archive again changes nothing and says the same
    assert other.out("load", "-i", str(archive)).strip() == "Loaded image: busybox:latest"
    assert len(other.out("images", "-q").split()) == 1


def test_save_to_stdout_and_load_from_stdin(dockyard, busybox_tar: Path, data_root: Path) -> None:
    dockyard.run("import", str(busybox_tar), "bb:1")
    data = dockyard.run("save", "bb:1").stdout
    other = type(dockyard)(data_root / "other")
    assert other.out("load", input=data).strip() == "Loaded image: bb:1"


def test_layers_shared_between_images_are_stored_once(dockyard, make_file, data_root: Path) -> None:
    base = [("etc/", None), ("etc/os-release", "base\n"), ("big", b"x" * 300_000)]
    one = image([base, [("app1", "one\n")]], tags=["app:1"])
    two = image([base, [("app2", "two\n")]], tags=["app:2"])
    dockyard.run("load", "-i", str(make_file("a.tar", docker_archive([one]))))
    dockyard.run("load", "-i", str(make_file("b.tar", docker_archive([two]))))
    snapshots = sorted(p.name for p in (data_root / "snapshots").glob("*/fs/..") if p.is_dir())
    fs_dirs = list((data_root / "snapshots").glob("*/fs"))
    assert len(fs_dirs) == 3, fs_dirs  # one shared base, two tops
    with_big = [d for d in fs_dirs if (d / "big").exists()]
    assert len(with_big) == 1
    # removing one image keeps the shared base for the other
    dockyard.run("rmi", "app:1")
    assert len(list((data_root / "snapshots").glob("*/fs"))) == 2
    assert dockyard.inspect("app:2")["RootFS"]["Layers"] == two.diff_ids
    dockyard.run("rmi", "app:2")
    assert list((data_root / "snapshots").glob("*/fs")) == []
    assert list((data_root / "content" / "blobs" / "sha256").iterdir()) == []
    assert snapshots is not None


def test_loading_a_compressed_multi_image_archive(dockyard, make_file) -> None:
    one = image([[("a", "1")], [("b", "2")]], tags=["multi:a", "multi:alias"], compress=True)
    two = image([[("c", "3")]], tags=[])
    out = dockyard.out("load", "-i", str(make_file("m.tar", docker_archive([one, two]))))
    assert out.splitlines() == ["Loaded image: multi:a", "Loaded image: multi:alias",
                                f"Loaded image ID: {two.id}"]
    assert dockyard.inspect("multi:alias")["Id"] == one.id
    assert dockyard.inspect(two.id[7:19])["Id"] == two.id


def test_overlay_of_the_chain_shows_the_union_with_deletions(dockyard, make_file, data_root: Path) -> None:
    from dockyard.mount import mounted
    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    img = image([
        [("etc/", None), ("etc/keep", "k"), ("etc/gone", "g"), ("data/", None), ("data/old", "o")],
        [("etc/.wh.gone", b""), ("etc/new", "n")],
        [("data/", None), ("data/.wh..wh..opq", b""), ("data/fresh", "f")],
    ], tags=["chain:1"])
    dockyard.run("load", "-i", str(make_file("c.tar", docker_archive([img]))))
    engine = Engine(Settings.resolve(data_root))
    top = engine.images.resolve("chain:1").top_chain_id
    assert top is not None
    mounts = engine.snapshotter.view("test-view", top)
    try:
        with mounted(mounts, data_root) as rootfs:
            assert sorted(p.name for p in (rootfs / "etc").iterdir()) == ["keep", "new"]
            assert sorted(p.name for p in (rootfs / "data").iterdir()) == ["fresh"]
    finally:
        engine.snapshotter.remove("test-view")


def test_errors_name_the_object_and_exit_125(dockyard) -> None:
    proc = dockyard.run("inspect", "nope:1", check=False)
    assert proc.returncode == 1
    assert "Error: No such object: nope:1" in proc.stderr.decode()
    proc = dockyard.run("tag", "nope", "x:1", check=False)
    assert proc.returncode == 125
    assert proc.stderr.decode().strip() == "Error: No such image: nope:latest"
    proc = dockyard.run("save", "-o", "/tmp/never.tar", "nope", check=False)
    assert proc.returncode == 125 and "No such image: nope:latest" in proc.stderr.decode()
    assert not Path("/tmp/never.tar").exists()
    proc = dockyard.run("import", "/nonexistent.tar", check=False)
    assert proc.returncode == 125
    proc = dockyard.run("tag", "nope", "Bad/Name", check=False)
    assert proc.returncode == 125


def test_a_corrupt_archive_loads_nothing(dockyard, make_file, data_root: Path) -> None:
    img = image([[("a", "1")]], tags=["bad:1"])
    data = bytearray(docker_archive([img]))
    # make the layer's diff id wrong: the config promises another content
    img.diff_ids = ["sha256:" + "0" * 64]
    broken = docker_archive([img])
    proc = dockyard.run("load", "-i", str(make_file("bad.tar", broken)), check=False)
    assert proc.returncode == 125
    assert "diff id" in proc.stderr.decode()
    assert dockyard.out("images", "-q").strip() == ""
    assert list((data_root / "snapshots").glob("*/fs")) == []
    blobs = data_root / "content" / "blobs" / "sha256"
    assert not blobs.exists() or list(blobs.iterdir()) == []
    proc = dockyard.run("load", input=bytes(data[:1000]), check=False)
    assert proc.returncode == 125


def test_rmi_untag_then_delete_and_prune(dockyard, busybox_tar: Path) -> None:
    image_id = dockyard.out("import", str(busybox_tar), "one:1").strip()
    dockyard.run("tag", "one:1", "two:2")
    proc = dockyard.run("rmi", image_id[7:19], check=False)
    assert proc.returncode == 1 and "referenced in multiple repositories" in proc.stderr.decode()
    assert dockyard.out("rmi", "one:1").strip() == "Untagged: one:1"
    assert dockyard.out("rmi", "two:2").splitlines() == ["Untagged: two:2", f"Deleted: {image_id}"]
    dockyard.run("import", str(busybox_tar))  # dangling
    rows = dockyard.out("images", "--filter", "dangling=true", "--format", "{{.Repository}}:{{.Tag}}")
    assert rows.strip() == "<none>:<none>"
    out = dockyard.out("image", "prune", "-f")
    assert "deleted: sha256:" in out and "Total reclaimed space:" in out
    assert dockyard.out("images", "-q").strip() == ""


def test_system_df_matches_the_disk(dockyard, busybox_tar: Path, data_root: Path) -> None:
    dockyard.run("import", str(busybox_tar), "bb:1")
    out = dockyard.out("system", "df", "--format", "{{json .}}").splitlines()
    images_row = json.loads(out[0])
    assert images_row["Type"] == "Images" and images_row["TotalCount"] == "1"
    du = subprocess.run(["du", "-sb", "--apparent-size", str(data_root / "content" / "blobs")],
                        capture_output=True, text=True, check=True)
    blobs = int(du.stdout.split()[0])
    used = subprocess.run(["du", "-sB1", str(data_root / "snapshots")], capture_output=True,
                          text=True, check=True)
    on_disk = int(used.stdout.split()[0]) + blobs
    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings
    from dockyard.service.system import disk_usage

    reported = disk_usage(Engine(Settings.resolve(data_root)))[0].size
    assert abs(reported - on_disk) / on_disk < 0.05, (reported, on_disk)
