"""`--tmpfs`, tmpfs option merging and `--volumes-from`."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.volume import inherit, parse_mount, parse_tmpfs, parse_volume, parse_volumes_from
from dockyard.volume.parse_tmpfs import merge_tmpfs_options


def test_tmpfs_with_options() -> None:
    spec = parse_tmpfs("/run/app:rw,size=64m,exec,uid=1000")
    assert (spec.type, spec.target, spec.readonly) == ("tmpfs", "/run/app", False)
    assert spec.options == ("size=64m", "exec", "uid=1000")
    assert parse_tmpfs("/x:ro").readonly
    assert parse_tmpfs("/x").options == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("rel", "invalid mount path: 'rel' mount path must be absolute"),
        ("/", "invalid specification: destination can't be '/'"),
        ("/x:colour=red", 'invalid tmpfs option ["colour" "red"]'),
        ("/x:bogus", 'invalid tmpfs option ["bogus"]'),
    ],
)
def test_tmpfs_errors(raw: str, message: str) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_tmpfs(raw)
    assert str(exc.value) == message


def test_merge_keeps_the_last_of_each_kind_in_place() -> None:
    merged = merge_tmpfs_options(["noexec", "nosuid", "nodev", "rprivate", "size=1m", "exec", "size=2m", "defaults"])
    assert merged == ["nosuid", "nodev", "rprivate", "exec", "size=2m"]


def test_volumes_from_modes() -> None:
    assert parse_volumes_from("data") == ("data", "rw")
    assert parse_volumes_from("data:ro") == ("data", "ro")
    assert parse_volumes_from("data:ro,z") == ("data", "ro,z")
    for bad in ("data:rshared", "data:nocopy", "data:bogus"):
        with pytest.raises(errors.InvalidArgument) as exc:
            parse_volumes_from(bad)
        assert str(exc.value) == f"invalid mode for volumes-from: {bad.split(':')[1]}"
    with pytest.raises(errors.InvalidArgument, match="cannot be an empty string"):
        parse_volumes_from("")


def test_inherit_makes_readonly_and_never_copies() -> None:
    theirs = [parse_volume("/h:/a"), parse_volume("v1:/b:ro"), parse_mount("type=tmpfs,dst=/t")]
    mine = inherit(theirs, "ro")
    assert [m.readonly for m in mine] == [True, True, True]
    assert all(m.nocopy and not m.create_source for m in mine)
    kept = inherit(theirs, "rw")
    assert [m.readonly for m in kept] == [False, True, False]
    assert [m.source for m in kept] == ["/h", "v1", ""]
