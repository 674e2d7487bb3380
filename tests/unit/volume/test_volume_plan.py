"""Combining a run's mount flags in Docker's precedence, and the OCI entries they become."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.volume import combine, inherit, oci_mount, parse_mount, parse_tmpfs, parse_volume


def test_volumes_from_is_overridden_by_v_and_tmpfs_wins() -> None:
    inherited = inherit([parse_volume("old:/data"), parse_volume("keep:/keep")], "rw")
    result = combine(
        volumes_from=inherited,
        volumes=[parse_volume("new:/data")],
        mounts=[parse_mount("type=bind,src=/h,dst=/data/sub")],
        tmpfs=[parse_tmpfs("/keep")],
    )
    by_target = {m.target: m for m in result}
    assert by_target["/data"].source == "new"
    assert by_target["/keep"].type == "tmpfs"
    assert [m.target for m in result].index("/data") < [m.target for m in result].index("/data/sub")


def test_duplicate_target_between_v_and_mount() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        combine(volumes=[parse_volume("a1:/d")], mounts=[parse_mount("type=volume,src=b1,dst=/d/")])
    assert str(exc.value) == "Duplicate mount point: /d"


def test_image_volumes_fill_only_uncovered_paths() -> None:
    result = combine(volumes=[parse_volume("named:/var/lib/db")],
                     image_volumes=["/var/lib/db/", "/logs"])
    assert [(m.target, m.source, m.anonymous) for m in result] == [
        ("/logs", "", True), ("/var/lib/db", "named", False)]


def test_parents_are_mounted_first() -> None:
    result = combine(volumes=[parse_volume("/h1:/a/b/c"), parse_volume("/h2:/a"), parse_volume("/h3:/a/b")])
    assert [m.target for m in result] == ["/a", "/a/b", "/a/b/c"]


def test_oci_entries() -> None:
    assert oci_mount(parse_volume("/h:/in:ro,rshared"), "/real/h") == {
        "destination": "/in", "type": "bind", "source": "/real/h",
        "options": ["rbind", "rshared", "ro"]}
    assert oci_mount(parse_volume("vol:/v"), "/root/volumes/vol/_data")["options"] == [
        "rbind", "rprivate", "rw"]
    assert oci_mount(parse_mount("type=bind,src=/h,dst=/x,bind-nonrecursive"), "/h")["options"][0] == "bind"
    tmp = oci_mount(parse_tmpfs("/t:exec,size=1m"))
    assert tmp == {"destination": "/t", "type": "tmpfs", "source": "tmpfs",
                   "options": ["nosuid", "nodev", "rprivate", "exec", "size=1m"]}
    assert oci_mount(parse_mount("type=tmpfs,dst=/t,ro"))["options"][-1] == "ro"
    with pytest.raises(errors.InvalidArgument):
        oci_mount(parse_volume("vol:/v"))


def test_specs_survive_a_json_round_trip() -> None:
    import json

    from dockyard.volume import MountSpec

    for spec in (parse_volume("/h:/in:ro,Z"), parse_tmpfs("/t:size=1m,exec"),
                 parse_mount("type=volume,src=v1,dst=/v,volume-opt=type=tmpfs,volume-label=a=b")):
        assert MountSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(errors.InvalidArgument):
        MountSpec.from_dict({"type": "bind"})


def test_inspect_entries_look_like_dockers() -> None:
    from dockyard.volume import inspect_entry

    assert inspect_entry(parse_volume("/h:/in:ro"), "/h") == {
        "Type": "bind", "Source": "/h", "Destination": "/in", "Mode": "ro", "RW": False,
        "Propagation": "rprivate"}
    assert inspect_entry(parse_volume("data:/d"), "/r/volumes/data/_data") == {
        "Type": "volume", "Name": "data", "Source": "/r/volumes/data/_data", "Destination": "/d",
        "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""}
    assert inspect_entry(parse_mount("type=tmpfs,dst=/t"))["Source"] == ""
