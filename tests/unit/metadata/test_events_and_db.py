import multiprocessing
from pathlib import Path

from dockyard.metadata.db import Database
from dockyard.metadata.events import EventLog


def test_migrations_run_once_and_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    db.migrate("thing", ["CREATE TABLE t (a INTEGER)"])
    db.migrate("thing", ["CREATE TABLE t (a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"])
    fresh = Database(tmp_path / "m.db")  # another process would see the same
    fresh.migrate("thing", ["CREATE TABLE t (a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"])
    cols = [r[1] for r in fresh.read().execute("PRAGMA table_info(t)")]
    assert cols == ["a", "b"]
    version = fresh.read().execute("SELECT version FROM schema_versions WHERE component='thing'").fetchone()[0]
    assert version == 2


def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    db.migrate("thing", ["CREATE TABLE t (a INTEGER)"])
    try:
        with db.tx() as tx:
            tx.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert db.read().execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def _emit(path: str, n: int) -> None:
    log = EventLog(Database(Path(path)))
    for i in range(n):
        log.emit("container", "start", f"c{i}")


def test_events_from_several_processes_are_all_seen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    EventLog(Database(path))
    procs = [multiprocessing.Process(target=_emit, args=(str(path), 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    events = EventLog(Database(path)).since(0)
    assert len(events) == 120
    assert [e.id for e in events] == sorted(e.id for e in events)
    docker = events[0].to_docker()
    assert docker["Type"] == "container" and docker["Action"] == "start" and docker["status"] == "start"
    last = events[-1].id
    assert EventLog(Database(path)).since(last) == []
