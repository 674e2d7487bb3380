import io
import multiprocessing
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.content.store import ContentStore
from dockyard.oci.digest import sha256_bytes


def test_blob_is_stored_under_its_digest(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    digest = store.put_bytes(b"hello")
    assert digest == sha256_bytes(b"hello")
    assert store.read_bytes(digest) == b"hello"
    assert store.info(digest).size == 5
    assert store.path(digest) == tmp_path / "blobs" / "sha256" / digest.split(":")[1]


def test_mismatching_digest_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    wrong = sha256_bytes(b"other")
    with pytest.raises(errors.DigestMismatch):
        store.ingest(io.BytesIO(b"hello"), expected=wrong)
    assert not store.has(wrong)
    assert list(store.walk()) == []
    assert list((tmp_path / "ingest").iterdir()) == []


def test_size_mismatch_is_refused(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(errors.DigestMismatch, match="size"):
        store.ingest(io.BytesIO(b"hello"), expected=sha256_bytes(b"hello"), size=4)


def test_aborted_writer_leaves_nothing(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with store.writer() as w:
        w.write(b"partial")
    assert list(store.walk()) == []
    assert list((tmp_path / "ingest").iterdir()) == []


def test_missing_blob_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound, match="not found"):
        ContentStore(tmp_path).info(sha256_bytes(b"x"))


def _write_many(root: str) -> None:
    store = ContentStore(Path(root))
    for i in range(50):
        store.put_bytes(b"shared-%d" % (i % 5) * 1000)


def test_concurrent_writers_of_the_same_blobs(tmp_path: Path) -> None:
    procs = [multiprocessing.Process(target=_write_many, args=(str(tmp_path),)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    store = ContentStore(tmp_path)
    blobs = list(store.walk())
    assert len(blobs) == 5
    for blob in blobs:
        assert sha256_bytes(store.read_bytes(blob.digest)) == blob.digest
