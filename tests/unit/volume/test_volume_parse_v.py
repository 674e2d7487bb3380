"""`-v` parsing: Docker's short syntax and its error messages."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.volume import parse_volume


def test_anonymous_volume_is_just_a_path() -> None:
    spec = parse_volume("/data/")
    assert (spec.type, spec.source, spec.target, spec.readonly) == ("volume", "", "/data", False)
    assert spec.anonymous


def test_named_volume_with_ro_mode() -> None:
    spec = parse_volume("cache:/var/cache:ro")
    assert (spec.type, spec.source, spec.target, spec.readonly) == ("volume", "cache", "/var/cache", True)
    assert spec.mode == "ro" and not spec.anonymous and not spec.nocopy


def test_named_volume_nocopy() -> None:
    assert parse_volume("cache:/c:nocopy").nocopy


def test_inspect_mode_of_named_volume_defaults_to_z_as_docker_shows() -> None:
    assert parse_volume("cache:/c").mode == "z"
    assert parse_volume("/c").mode == ""
    assert parse_volume("/h:/c").mode == ""


def test_bind_with_every_mode_kind() -> None:
    spec = parse_volume("/srv//www/:/www:ro,Z,rshared")
    assert spec.type == "bind" and spec.source == "/srv/www" and spec.target == "/www"
    assert spec.readonly and spec.propagation == "rshared" and spec.options == ("Z",)
    assert spec.create_source  # -v makes a missing host directory, as Docker does


def test_bind_defaults_to_rprivate_and_rw() -> None:
    spec = parse_volume("/host:/in")
    assert (spec.propagation, spec.readonly, spec.mode) == ("rprivate", False, "")


def test_relative_dot_source_is_made_absolute() -> None:
    spec = parse_volume("./sub:/in", cwd="/home/me")
    assert spec.type == "bind" and spec.source == "/home/me/sub"
    assert parse_volume(".:/in", cwd="/home/me").source == "/home/me"


@pytest.mark.parametrize("raw", [":/x", "/x:rw", "/a:/b:ro:extra", "/a:"])
def test_invalid_specification(raw: str) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume(raw)
    assert str(exc.value) == f"invalid volume specification: '{raw}'"


@pytest.mark.parametrize("mode", ["bogus", "ro,rw", "z,Z", "shared,slave", "nocopy,nocopy"])
def test_invalid_mode(mode: str) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume(f"/a:/b:{mode}")
    assert str(exc.value) == f"invalid mode: {mode}"


def test_destination_cannot_be_root() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume("/a:/")
    assert str(exc.value) == (
        "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
        "invalid specification: destination can't be '/'"
    )


def test_destination_must_be_absolute() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume("vol:rel")
    assert str(exc.value) == (
        "invalid volume specification: 'vol:rel': invalid mount config for type \"volume\": "
        "invalid mount path: 'rel' mount path must be absolute"
    )


def test_volume_cannot_take_propagation() -> None:
    with pytest.raises(errors.InvalidArgument, match="field BindOptions must not be specified"):
        parse_volume("vol:/x:rshared")


def test_relative_source_is_a_volume_name_and_must_be_valid() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume("foo/bar:/x")
    assert str(exc.value) == (
        'create foo/bar: "foo/bar" includes invalid characters for a local volume name, only '
        '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
        "use absolute path"
    )


def test_bind_cannot_take_nocopy() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_volume("/a:/b:nocopy")
    assert str(exc.value) == (
        "invalid volume specification: '/a:/b:nocopy': invalid mount config for type \"bind\": "
        "field VolumeOptions must not be specified"
    )
