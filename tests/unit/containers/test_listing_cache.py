"""What ``ps`` remembers between calls (parsed records, the shim's files) is checked against
the database and the files on every call: a change made by another process (the CLI behind a
daemon's back, a shim recording an exit) shows at once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockyard.metadata.containers import ContainerRecord, ContainerRecords
from dockyard.metadata.db import Database
from dockyard.runtime.shim.config import write_json
from dockyard.service.containers import state
from dockyard.service.containers.state import read_live_state


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust files however new they are, so these tests exercise the cached path."""
    monkeypatch.setattr(state, "RACY_NS", -(10**18))


def _record(cid: str, name: str) -> ContainerRecord:
    return ContainerRecord(cid, name, "sha256:" + "1" * 64, "busybox", "2024-01-01T00:00:00Z",
                           {"Cmd": ["sleep", "9"], "Labels": {"a": "b"}}, {}, cid, "builtin")  # fmt: skip


def test_an_exit_recorded_by_the_shim_shows_at_once(tmp_path: Path, settled: None) -> None:
    sd = str(tmp_path)
    write_json(f"{sd}/state.json", {"status": "exited", "shim_pid": 1})
    write_json(f"{sd}/exit.json", {"exit_code": 1, "finished_at": "2024-01-01T00:00:01Z"})
    assert read_live_state(sd).exit_code == 1
    assert f"{sd}/exit.json" in state._json_cache  # parsed once, kept
    # the shim's next exit: same size, written as the shim writes (temp file + rename)
    write_json(f"{sd}/exit.json", {"exit_code": 2, "finished_at": "2024-01-01T00:00:02Z"})
    assert read_live_state(sd).exit_code == 2


def test_a_file_that_appears_or_goes_shows_at_once(tmp_path: Path, settled: None) -> None:
    sd = str(tmp_path)
    assert read_live_state(sd).status == "created"
    write_json(f"{sd}/state.json", {"status": "running", "shim_pid": 2**22 + 1})
    assert read_live_state(sd).status == "dead"  # its shim is gone, and no exit.json
    write_json(f"{sd}/exit.json", {"exit_code": 3})
    assert (read_live_state(sd).status, read_live_state(sd).exit_code) == ("exited", 3)
    write_json(f"{sd}/state.json", {"status": "exited", "shim_pid": 1})
    (tmp_path / "start-failed").write_text("127\nexec: nope")
    assert read_live_state(sd).status == "created"
    os.unlink(f"{sd}/state.json")
    os.unlink(f"{sd}/exit.json")
    os.unlink(f"{sd}/start-failed")
    assert read_live_state(sd).status == "created"
    assert read_live_state(str(tmp_path / "gone")).status == "created"


def test_a_fresh_file_rewritten_in_place_is_read_again(tmp_path: Path) -> None:
    """Two writes within one clock tick can leave size and times equal: a file that new is
    never trusted from the cache (the default RACY_NS), whatever its writer does."""
    sd = str(tmp_path)
    (tmp_path / "state.json").write_text(json.dumps({"status": "exited", "shim_pid": 1}))
    (tmp_path / "exit.json").write_text(json.dumps({"exit_code": 4}))
    assert read_live_state(sd).exit_code == 4
    (tmp_path / "exit.json").write_text(json.dumps({"exit_code": 5}))  # same size, same inode
    assert read_live_state(sd).exit_code == 5


def test_records_changed_by_another_process_show_at_once(tmp_path: Path) -> None:
    daemon = ContainerRecords(Database(tmp_path / "db.sqlite"))
    cli = ContainerRecords(Database(tmp_path / "db.sqlite"))  # its own connection
    cli.put(_record("a" * 64, "web"))
    cli.put(_record("b" * 64, "db"))
    first = daemon.all_shared()
    assert [r.name for r in first] == ["db", "web"]
    again = daemon.all_shared()
    assert all(x is y for x, y in zip(first, again, strict=True))  # parsed once
    cli.rename("a" * 64, "api")
    cli.update_extra("b" * 64, {"Mounts": [{"Type": "volume"}]})
    cli.put(_record("c" * 64, "new"))
    now = {r.name: r for r in daemon.all_shared()}
    assert sorted(now) == ["api", "db", "new"]
    assert now["db"].extra == {"Mounts": [{"Type": "volume"}]}
    cli.delete("b" * 64)
    assert sorted(r.name for r in daemon.all_shared()) == ["api", "new"]
    assert [r.name for r in daemon.all_shared()] == [r.name for r in daemon.all()]


def test_what_is_kept_for_removed_containers_is_dropped(tmp_path: Path, settled: None) -> None:
    dirs = []
    for i in range(30):
        sd = tmp_path / f"c{i}"
        sd.mkdir()
        write_json(f"{sd}/state.json", {"status": "exited", "shim_pid": 1})
        write_json(f"{sd}/exit.json", {"exit_code": i})
        read_live_state(str(sd))
        dirs.append(str(sd))
    assert all(f"{d}/exit.json" in state._json_cache for d in dirs)
    state.forget_others(dirs[:2], slack=0)  # 28 of them were removed meanwhile
    kept = {os.path.dirname(p) for p in state._json_cache} | set(state._names_cache)
    assert kept & set(dirs) == set(dirs[:2])
