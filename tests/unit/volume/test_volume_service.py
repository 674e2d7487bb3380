"""The volume service over a real SQLite file and directories (no mounts: no root needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings
from dockyard.volume import parse_mount, parse_volume


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(Settings.resolve(tmp_path / "root"))


def test_create_inspect_as_docker_shows_it(engine: Engine, tmp_path: Path) -> None:
    record = engine.volumes.create("data", labels={"tier": "db"})
    doc = engine.volumes.inspect("data")
    assert doc["Name"] == "data" and doc["Driver"] == "local" and doc["Scope"] == "local"
    assert doc["Labels"] == {"tier": "db"} and doc["Options"] is None
    assert doc["Mountpoint"] == str(tmp_path / "root" / "volumes" / "data" / "_data")
    assert Path(record.mountpoint).is_dir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["CreatedAt"])
    json.dumps(doc)


def test_create_is_idempotent_and_keeps_the_first(engine: Engine) -> None:
    engine.volumes.create("data", labels={"a": "1"})
    again = engine.volumes.create("data", labels={"a": "2"})
    assert again.labels == {"a": "1"}
    assert [r.name for r in engine.volumes.list_volumes()] == ["data"]


def test_anonymous_volumes_get_a_hex_name_and_dockers_label(engine: Engine) -> None:
    record = engine.volumes.create()
    assert re.fullmatch(r"[0-9a-f]{64}", record.name)
    assert record.anonymous and record.labels == {"com.docker.volume.anonymous": ""}


def test_bad_options_and_drivers(engine: Engine) -> None:
    with pytest.raises(errors.InvalidArgument, match='invalid option: "foo"'):
        engine.volumes.create("v1", options={"foo": "bar"})
    with pytest.raises(errors.InvalidArgument, match='missing required option: "device"'):
        engine.volumes.create("v1", options={"type": "tmpfs"})
    with pytest.raises(errors.InvalidArgument, match='missing required option: "type"'):
        engine.volumes.create("v1", options={"o": "size=1m", "device": "tmpfs"})
    with pytest.raises(errors.NotFound, match='plugin "nfs3" not found'):
        engine.volumes.create("v1", driver="nfs3")
    assert engine.volumes.list_volumes() == []
    assert not (engine.settings.root / "volumes" / "v1").exists()


def test_ls_filters(engine: Engine) -> None:
    engine.volumes.create("alpha", labels={"env": "prod"})
    engine.volumes.create("beta", labels={"env": "dev", "team": "x"})
    engine.volumes.create("gamma")
    engine.volumes.users = lambda name: ["c1"] if name == "beta" else []

    def names(*f: str) -> list[str]:
        return [r.name for r in engine.volumes.list_volumes(f)]

    assert names("label=env") == ["alpha", "beta"]
    assert names("label=env=dev") == ["beta"]
    assert names("label=env", "label=team") == ["beta"]
    assert names("name=a$") == ["alpha", "beta", "gamma"]
    assert names("name=^gam") == ["gamma"]
    assert names("dangling=true") == ["alpha", "gamma"]
    assert names("dangling=0") == ["beta"]
    assert names("driver=local") == ["alpha", "beta", "gamma"]
    assert names("driver=other") == []
    with pytest.raises(errors.InvalidArgument, match="invalid filter 'colour'"):
        names("colour=red")
    with pytest.raises(errors.InvalidArgument, match="invalid filter 'dangling=maybe'"):
        names("dangling=maybe")


def test_rm_refuses_a_volume_in_use(engine: Engine) -> None:
    engine.volumes.create("busy")
    engine.volumes.users = lambda name: ["0123abcd"]
    with pytest.raises(errors.Conflict) as exc:
        engine.volumes.remove("busy")
    assert str(exc.value) == "remove busy: volume is in use - [0123abcd]"
    with pytest.raises(errors.Conflict):
        engine.volumes.remove("busy", force=True)
    engine.volumes.users = lambda name: []
    engine.volumes.remove("busy")
    assert not (engine.settings.root / "volumes" / "busy").exists()


def test_rm_missing(engine: Engine) -> None:
    with pytest.raises(errors.NotFound) as exc:
        engine.volumes.remove("ghost")
    assert str(exc.value) == "get ghost: no such volume"
    engine.volumes.remove("ghost", force=True)


def test_prune_anonymous_by_default_all_with_flag(engine: Engine) -> None:
    anon = engine.volumes.create()
    used_anon = engine.volumes.create()
    engine.volumes.create("named")
    engine.volumes.create("kept")
    Path(anon.mountpoint, "f").write_bytes(b"x" * 1000)
    engine.volumes.users = lambda name: ["c1"] if name in (used_anon.name, "kept") else []
    removed, reclaimed = engine.volumes.prune()
    assert (removed, reclaimed) == ([anon.name], 1000)
    removed, _ = engine.volumes.prune(all_volumes=True)
    assert removed == ["named"]
    assert sorted(r.name for r in engine.volumes.list_volumes()) == sorted([used_anon.name, "kept"])


def test_prune_label_filters(engine: Engine) -> None:
    engine.volumes.create("keep1", labels={"keep": "yes"})
    engine.volumes.create("drop1")
    removed, _ = engine.volumes.prune(filter_args=["all=true", "label!=keep"])
    assert removed == ["drop1"]


def test_usage_counts_active_and_reclaimable(engine: Engine) -> None:
    a = engine.volumes.create("aa")
    b = engine.volumes.create("bb")
    Path(a.mountpoint, "f").write_bytes(b"x" * 300)
    Path(b.mountpoint, "g").write_bytes(b"y" * 200)
    Path(b.mountpoint, "g2").hardlink_to(Path(b.mountpoint, "g"))  # counted once
    engine.volumes.users = lambda name: ["c"] if name == "aa" else []
    usage = engine.volumes.usage()
    assert (usage.count, usage.active, usage.size, usage.reclaimable) == (2, 1, 500, 200)


def test_attach_creates_names_and_fills_volumes(engine: Engine, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc" / "app").mkdir(parents=True)
    (rootfs / "etc" / "app" / "conf").write_text("from image")
    host = tmp_path / "host"
    specs = [parse_volume("/etc/app"), parse_volume(f"{host}:/h:ro"),
             parse_mount("type=volume,src=cfg,dst=/etc/app2,volume-nocopy")]
    attached = engine.volumes.attach(specs, "cid1", rootfs)
    anon, bind, named = attached
    assert anon.spec.source and Path(anon.host_source, "conf").read_text() == "from image"
    assert anon.oci == {"destination": "/etc/app", "type": "bind", "source": anon.host_source,
                        "options": ["rbind", "rprivate", "rw"]}
    assert bind.host_source == str(host) and host.is_dir() and bind.oci["options"][-1] == "ro"
    assert named.spec.source == "cfg" and list(Path(named.host_source).iterdir()) == []
    assert engine.volumes.in_use_by("cfg") == ["cid1"]
    engine.volumes.detach([a.spec for a in attached], "cid1")
    assert engine.volumes.in_use_by("cfg") == []
    assert engine.volumes.remove_anonymous([a.spec for a in attached]) == [anon.spec.source]
    assert [r.name for r in engine.volumes.list_volumes()] == ["cfg"]


def test_attach_failure_releases_what_was_attached(engine: Engine, tmp_path: Path) -> None:
    specs = [parse_volume("first:/a"), parse_mount(f"type=bind,src={tmp_path}/absent,dst=/b")]
    with pytest.raises(errors.InvalidArgument, match="bind source path does not exist"):
        engine.volumes.attach(specs, "cid2")
    assert engine.volumes.in_use_by("first") == []


def test_fill_after_attach_and_detach_all(engine: Engine, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "srv").mkdir(parents=True)
    (rootfs / "srv" / "index.html").write_text("hi")
    attached = engine.volumes.attach([parse_volume("web:/srv"), parse_volume("/srv2")], "cid3")
    assert list(Path(attached[0].host_source).iterdir()) == []  # no rootfs yet: not filled
    assert engine.volumes.fill(attached, rootfs) == ["web"]  # /srv2 has nothing in the image
    assert Path(attached[0].host_source, "index.html").read_text() == "hi"
    assert engine.volumes.fill(attached, rootfs) == []  # once only
    engine.volumes.detach_all("cid3")
    assert engine.volumes.in_use_by("web") == [] and engine.volumes.in_use_by(attached[1].spec.source) == []


def test_events_like_dockers(engine: Engine) -> None:
    start = engine.events.last_id()
    engine.volumes.create("ev")
    attached = engine.volumes.attach([parse_volume("ev:/e:ro")], "cid9")
    engine.volumes.detach([a.spec for a in attached], "cid9")
    engine.volumes.remove("ev")
    events = [e.to_docker() for e in engine.events.since(start)]
    assert [(e["Type"], e["Action"]) for e in events] == [
        ("volume", "create"), ("volume", "mount"), ("volume", "unmount"), ("volume", "destroy")]
    assert events[1]["Actor"]["Attributes"]["container"] == "cid9"
    assert events[1]["Actor"]["Attributes"]["read/write"] == "false"
