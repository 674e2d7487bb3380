"""Container ids, names and records: generation, validation, prefixes, Docker's conflicts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord, ContainerRecords
from dockyard.metadata.db import Database
from dockyard.service.containers import names


@pytest.fixture
def records(tmp_path: Path) -> ContainerRecords:
    return ContainerRecords(Database(tmp_path / "db.sqlite"))


def _record(cid: str, name: str, image_id: str = "img") -> ContainerRecord:
    return ContainerRecord(cid, name, image_id, "busybox", "2024-01-01T00:00:00Z", {"Cmd": ["x"]},
                           {}, cid, "builtin")  # fmt: skip


def test_ids_are_64_hex_and_names_adjective_surname() -> None:
    cid = names.new_id()
    assert len(cid) == 64 and int(cid, 16) >= 0
    name = names.generate_name(set(), random.Random(1))
    assert name.count("_") == 1 and name.replace("_", "").isalpha()


def test_generated_names_avoid_taken_ones() -> None:
    rng = random.Random(7)
    first = names.generate_name(set(), random.Random(7))
    assert names.generate_name({first}, rng) != first


@pytest.mark.parametrize("bad", ["-x", "a", "a b", "ü_x", "/"])
def test_invalid_names_are_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=r"Invalid container name"):
        names.validate_name(bad)


def test_valid_name_loses_its_slash() -> None:
    assert names.validate_name("/web.1_a-b") == "web.1_a-b"


def test_resolve_by_id_name_and_unique_prefix(records: ContainerRecords) -> None:
    records.put(_record("ab" + "0" * 62, "web"))
    records.put(_record("ac" + "0" * 62, "db"))
    assert names.resolve(records, "web").id.startswith("ab")
    assert names.resolve(records, "/db").id.startswith("ac")
    assert names.resolve(records, "ab").name == "web"
    with pytest.raises(errors.InvalidArgument, match="multiple IDs"):
        names.resolve(records, "a")
    with pytest.raises(errors.NotFound, match="No such container: nope"):
        names.resolve(records, "nope")


def test_name_conflict_is_dockers_message(records: ContainerRecords) -> None:
    records.put(_record("1" * 64, "web"))
    with pytest.raises(errors.Conflict) as info:
        records.put(_record("2" * 64, "web"))
    assert str(info.value) == (
        f'Conflict. The container name "/web" is already in use by container "{"1" * 64}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )


def test_records_round_trip_rename_and_delete(records: ContainerRecords) -> None:
    records.put(_record("1" * 64, "web", image_id="sha256:i"))
    assert records.get("1" * 64).config == {"Cmd": ["x"]}
    assert records.using_image("sha256:i") == ["1" * 64]
    records.rename("1" * 64, "api")
    assert records.by_name("api") is not None and records.by_name("web") is None
    records.delete("1" * 64)
    with pytest.raises(errors.NotFound):
        records.get("1" * 64)
