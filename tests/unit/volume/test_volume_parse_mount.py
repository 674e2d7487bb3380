"""`--mount` parsing: the flag's own errors and the daemon's checks, in Docker's words."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.volume import parse_mount
from dockyard.volume.parse_mount import ram_in_bytes


def _error(raw: str) -> str:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_mount(raw)
    return str(exc.value)


def test_bind_with_aliases_and_readonly_flag() -> None:
    spec = parse_mount("type=bind,src=/host/dir/,dst=/in,readonly,bind-propagation=rslave")
    assert (spec.type, spec.source, spec.target) == ("bind", "/host/dir", "/in")
    assert spec.readonly and spec.propagation == "rslave"
    assert not spec.create_source  # --mount never creates the host path


@pytest.mark.parametrize("ro", ["ro=true", "readonly=1", "RO=True", "ro"])
def test_readonly_spellings(ro: str) -> None:
    assert parse_mount(f"type=bind,source=/a,target=/b,{ro}").readonly


def test_readonly_false_and_bad_value() -> None:
    assert not parse_mount("type=bind,source=/a,target=/b,ro=false").readonly
    assert _error("type=bind,source=/a,target=/b,ro=maybe") == (
        'invalid argument "type=bind,source=/a,target=/b,ro=maybe" for "--mount" flag: '
        "invalid value for ro: maybe"
    )


def test_type_defaults_to_volume_with_options() -> None:
    spec = parse_mount(
        "target=/data,source=vol,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"
        "volume-label=a=b,volume-nocopy"
    )
    assert (spec.type, spec.source, spec.target) == ("volume", "vol", "/data")
    assert spec.volume_opts == {"type": "tmpfs", "device": "tmpfs"}
    assert spec.volume_labels == {"a": "b"} and spec.nocopy


def test_quoted_csv_field_keeps_its_commas() -> None:
    spec = parse_mount('type=volume,src=v1,dst=/d,"volume-opt=o=size=1m,uid=1000"')
    assert spec.volume_opts == {"o": "size=1m,uid=1000"}


def test_tmpfs_size_and_mode_become_dockers_options() -> None:
    spec = parse_mount("type=tmpfs,destination=/run/x,tmpfs-size=64m,tmpfs-mode=1770")
    assert spec.type == "tmpfs" and spec.options == ("mode=1770", "size=64m")
    assert parse_mount("type=tmpfs,dst=/t,tmpfs-size=1000").options == ("size=1000",)
    assert parse_mount("type=tmpfs,dst=/t,tmpfs-size=2g").options == ("size=2g",)


def test_ram_in_bytes_units() -> None:
    assert ram_in_bytes("64m") == 64 << 20
    assert ram_in_bytes("1.5GB") == 3 << 29
    assert ram_in_bytes("10 KiB") == 10 << 10
    with pytest.raises(ValueError):
        ram_in_bytes("lots")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("type=bind", "target is required"),
        ("type=,target=/x", "type is required"),
        ("type=bind,src=/a,dst=/b,bogus", "invalid field 'bogus' must be a key=value pair"),
        ("type=bind,src=/a,dst=/b,color=red", "unexpected key 'color' in 'color=red'"),
        ("type=bind,src=/a,dst=/b,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
        ("type=volume,dst=/b,bind-propagation=shared", "cannot mix 'bind-*' options with mount type 'volume'"),
        ("type=bind,src=/a,dst=/b,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'bind'"),
        ("type=tmpfs,dst=/b,tmpfs-size=big", "invalid value for tmpfs-size: big"),
        ("type=tmpfs,dst=/b,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"),
        ("type=volume,dst=/b,volume-nocopy=perhaps", "invalid value for volume-nocopy: perhaps"),
    ],
)
def test_flag_errors(raw: str, message: str) -> None:
    assert _error(raw) == f'invalid argument "{raw}" for "--mount" flag: {message}'


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("type=bind,target=/x", 'invalid mount config for type "bind": field Source must not be empty'),
        ("type=bind,src=rel,target=/x",
         "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
        ("type=bind,src=/a,target=/x,bind-propagation=sideways",
         'invalid mount config for type "bind": invalid propagation mode: sideways'),
        ("type=bind,src=/a,target=/",
         "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("type=volume,target=x",
         "invalid mount config for type \"volume\": invalid mount path: 'x' mount path must be absolute"),
        ("type=volume,target=/x,readonly",
         'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'),
        ("type=tmpfs,src=foo,target=/x", 'invalid mount config for type "tmpfs": field Source must not be specified'),
        ("type=npipe,src=/a,target=/x", 'invalid mount config for type "npipe": mount type unknown'),
    ],
)
def test_daemon_errors(raw: str, message: str) -> None:
    assert _error(raw) == message


def test_relative_dot_source_is_made_absolute() -> None:
    assert parse_mount("type=bind,src=./d,dst=/x", cwd="/w").source == "/w/d"


def test_bad_volume_name() -> None:
    assert _error("type=volume,src=a,dst=/x").startswith("create a: volume name is too short")
