"""The build cache's records: reuse across instances, trust only while the layer exists, prune."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard import errors
from dockyard.build.cache import BuildCache, CacheEntry, pin_name
from dockyard.metadata.db import Database


class FakeSnapshots:
    """Just enough of a snapshotter: names, parents, and removal refused while children exist."""

    def __init__(self) -> None:
        self.parents: dict[str, str | None] = {}

    def stat(self, key: str) -> object:
        if key not in self.parents:
            raise errors.NotFound(key)
        return object()

    def prepare(self, key: str, parent: str | None = None, labels: object = None) -> list[object]:
        if key in self.parents:
            raise errors.AlreadyExists(key)
        self.parents[key] = parent
        return []

    def usage(self, key: str) -> object:
        return type("U", (), {"size": 10})()

    def walk(self) -> list[object]:
        return [type("I", (), {"name": name})() for name in self.parents]

    def remove(self, key: str) -> None:
        if key not in self.parents:
            raise errors.NotFound(key)
        if key in self.parents.values():
            raise errors.Conflict(key)
        del self.parents[key]


ENTRY = CacheEntry("sha256:chain", "sha256:diff", "sha256:blob", 123, "application/x")


@pytest.fixture
def parts(tmp_path: Path) -> tuple[Database, FakeSnapshots, Path]:
    snaps = FakeSnapshots()
    snaps.parents["sha256:chain"] = None
    return Database(tmp_path / "metadata.db"), snaps, tmp_path / "mounts"


def test_an_entry_survives_a_new_process_and_pins_its_layer(parts) -> None:  # type: ignore[no-untyped-def]
    db, snaps, mounts = parts
    BuildCache(db, snaps, mounts).put("k1", ENTRY)  # type: ignore[arg-type]
    again = BuildCache(Database(db.path), snaps, mounts)  # type: ignore[arg-type]
    assert again.get("k1") == ENTRY
    assert again.get("other") is None
    assert snaps.parents[pin_name("sha256:chain")] == "sha256:chain"
    with pytest.raises(errors.Conflict):
        snaps.remove("sha256:chain")  # what an image GC would try
    assert "sha256:blob" in again.blob_digests()


def test_an_entry_whose_layer_is_gone_is_a_miss(parts) -> None:  # type: ignore[no-untyped-def]
    db, snaps, mounts = parts
    cache = BuildCache(db, snaps, mounts)  # type: ignore[arg-type]
    cache.put("k1", ENTRY)
    del snaps.parents[pin_name("sha256:chain")]
    del snaps.parents["sha256:chain"]
    assert cache.get("k1") is None


def test_prune_forgets_everything_and_frees_unused_layers(parts) -> None:  # type: ignore[no-untyped-def]
    db, snaps, mounts = parts
    snaps.parents["sha256:used"] = None
    snaps.parents["build-deadbeef"] = "sha256:used"  # a step a killed build left behind
    cache = BuildCache(db, snaps, mounts)  # type: ignore[arg-type]
    cache.put("k1", ENTRY)
    cache.put("k2", CacheEntry("sha256:used", "d", "b", 1, "m"))
    cache.put_result("final", "sha256:config", "sha256:manifest")
    (mounts / "m1").mkdir(parents=True)
    (mounts / "m1" / "f").write_bytes(b"x" * 5)
    count, freed = cache.prune(lambda: {"sha256:used"})
    assert count == 2 and freed == 15
    assert cache.get("k1") is None and cache.result("final") is None
    assert "sha256:chain" not in snaps.parents and "sha256:used" in snaps.parents
    assert "build-deadbeef" not in snaps.parents
    assert not mounts.exists()
