"""The json-file log: Docker's on-disk format, rotation, and what ``docker logs`` shows."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.logs import (
    LogWriter,
    format_entry,
    format_time,
    log_files,
    parse_log_opts,
    parse_size,
    parse_time,
    read_logs,
)

S = 1_000_000_000


def test_lines_are_docker_json_file_records(tmp_path: Path) -> None:
    log = tmp_path / "container.log"
    w = LogWriter(str(log))
    w.write("stdout", b"hello\nwor")
    w.write("stderr", b"oops\n")
    w.write("stdout", b"ld\n")
    w.close()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["log"], r["stream"]) for r in records] == [
        ("hello\n", "stdout"),
        ("oops\n", "stderr"),
        ("world\n", "stdout"),
    ]
    assert all(r["time"].endswith("Z") and "T" in r["time"] for r in records)
    assert list(records[0]) == ["log", "stream", "time"]


def test_unterminated_output_is_flushed_at_close(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log))
    w.write("stdout", b"no newline")
    w.close()
    assert [e.text for e in read_logs(str(log))] == ["no newline"]


def test_long_lines_split_into_16k_partials(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log))
    w.write("stdout", b"x" * 40000 + b"\n")
    w.close()
    texts = [e.text for e in read_logs(str(log))]
    assert [len(t) for t in texts] == [16384, 16384, 7233]
    assert "".join(texts) == "x" * 40000 + "\n"


def test_rotation_keeps_max_file_files(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log), max_size=300, max_file=3)
    for i in range(40):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    files = log_files(str(log))
    assert files == [f"{log}.2", f"{log}.1", str(log)]
    assert all(Path(f).stat().st_size <= 300 for f in files)
    texts = [e.text for e in read_logs(str(log))]
    assert texts[-1] == "line 39\n"
    assert len(texts) < 40  # the oldest lines rotated away
    numbers = [int(t.split()[1]) for t in texts]
    assert numbers == list(range(numbers[0], 40))


def test_single_file_rotation_truncates(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log), max_size=200, max_file=1)
    for i in range(20):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    assert log_files(str(log)) == [str(log)]
    assert log.stat().st_size <= 200


def test_tail_since_until(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    base = 1_700_000_000 * S
    with log.open("w") as f:
        for i in range(10):
            rec = {"log": f"l{i}\n", "stream": "stdout", "time": format_time(base + i * S)}
            f.write(json.dumps(rec) + "\n")
    assert [e.text for e in read_logs(str(log), tail=3)] == ["l7\n", "l8\n", "l9\n"]
    assert list(read_logs(str(log), tail=0)) == []
    since = [e.text for e in read_logs(str(log), since_ns=base + 8 * S)]
    assert since == ["l8\n", "l9\n"]
    until = [e.text for e in read_logs(str(log), until_ns=base + S)]
    assert until == ["l0\n", "l1\n"]


def test_tail_reads_across_rotated_files(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log), max_size=200, max_file=5)
    for i in range(20):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    assert len(log_files(str(log))) > 2
    assert [e.text for e in read_logs(str(log), tail=6)] == [f"line {i}\n" for i in range(14, 20)]


def test_timestamps_format_like_docker_logs_t() -> None:
    ns = 1_700_000_000 * S + 120_000_000
    assert format_time(ns) == "2023-11-14T22:13:20.12Z"
    assert format_time(1_700_000_000 * S) == "2023-11-14T22:13:20Z"
    from dockyard.runtime.logs import LogEntry

    entry = LogEntry(ns, "stdout", "hi\n")
    assert format_entry(entry, timestamps=True) == "2023-11-14T22:13:20.120000000Z hi\n"
    assert format_entry(entry) == "hi\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-14T22:13:20.123456789Z", 1_700_000_000 * S + 123_456_789),
        ("2023-11-14T22:13:20Z", 1_700_000_000 * S),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000 * S),
        ("1700000000", 1_700_000_000 * S),
        ("1700000000.5", 1_700_000_000 * S + S // 2),
        ("10m", 2_000_000_000 * S - 600 * S),
        ("1h30m", 2_000_000_000 * S - 5400 * S),
        ("1.5s", 2_000_000_000 * S - 3 * S // 2),
    ],
)
def test_since_until_values(value: str, expected: int) -> None:
    assert parse_time(value, now_ns=2_000_000_000 * S) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "10x", "2023-13-45T00:00:00Z"])
def test_bad_since_values(value: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        parse_time(value)


def test_log_opts() -> None:
    assert parse_size("10m") == 10 * 1024 * 1024
    assert parse_size("512k") == 512 * 1024
    assert parse_size("100") == 100
    assert parse_log_opts({"max-size": "1m", "max-file": "3"}) == (1024 * 1024, 3)
    assert parse_log_opts({}) == (0, 1)
    with pytest.raises(errors.InvalidArgument, match="max-file"):
        parse_log_opts({"max-file": "0", "max-size": "1m"})
    with pytest.raises(errors.InvalidArgument, match="size"):
        parse_log_opts({"max-size": "lots"})
    with pytest.raises(errors.InvalidArgument, match="unknown log opt"):
        parse_log_opts({"max-sise": "1m"})


def test_follow_yields_new_lines_and_stops_when_container_exits(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log), max_size=250, max_file=2)
    w.write("stdout", b"before\n")
    exited = threading.Event()

    def producer() -> None:
        for i in range(12):  # enough to rotate while the reader follows
            time.sleep(0.01)
            w.write("stdout", f"after {i}\n".encode())
        w.close()
        exited.set()

    t = threading.Thread(target=producer)
    t.start()
    got = [e.text for e in read_logs(str(log), follow=True, stopped=exited.is_set, poll=0.01)]
    t.join()
    assert got == ["before\n"] + [f"after {i}\n" for i in range(12)]


def test_follow_with_tail_starts_from_the_end(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    w = LogWriter(str(log))
    for i in range(5):
        w.write("stdout", f"old {i}\n".encode())
    done = threading.Event()

    def producer() -> None:
        time.sleep(0.05)
        w.write("stderr", b"new\n")
        w.close()
        done.set()

    t = threading.Thread(target=producer)
    t.start()
    got = [
        (e.stream, e.text)
        for e in read_logs(str(log), tail=1, follow=True, stopped=done.is_set, poll=0.01)
    ]
    t.join()
    assert got == [("stdout", "old 4\n"), ("stderr", "new\n")]


def test_entries_carry_the_time_they_were_read_and_any_text(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    before = time.time_ns()
    w = LogWriter(str(log))
    w.write("stdout", 'héllo "q" \\ \t\x01 ✓\n'.encode())
    w.write("stdout", b"bad \xff byte\n")
    w.close()
    after = time.time_ns()
    entries = list(read_logs(str(log)))
    assert [e.text for e in entries] == ['héllo "q" \\ \t\x01 ✓\n', "bad \ufffd byte\n"]
    assert all(before <= e.time_ns <= after for e in entries)
    assert "héllo" in log.read_text(encoding="utf-8")  # UTF-8 as Docker writes it, not \\u


def test_records_from_other_writers_with_offsets_are_read(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_text(
        '{"log":"a\\n","stream":"stdout","time":"2023-11-14T23:13:20.5+01:00"}\n'
        "not json at all\n"
        '{"log":"b\\n","stream":"stderr","time":"2023-11-14T22:13:21Z"}\n'
    )
    entries = list(read_logs(str(log)))
    assert [(e.text, e.time_ns) for e in entries] == [
        ("a\n", 1_700_000_000 * S + S // 2),
        ("b\n", 1_700_000_001 * S),
    ]
