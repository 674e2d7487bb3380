"""Docker's json-file container log: the writer the shim uses and the reader ``logs`` uses.

One JSON object per line, ``{"log": "hi\\n", "stream": "stdout", "time": "<RFC3339Nano UTC>"}``;
a line longer than 16 KiB is split into entries without the trailing newline, as Docker does.
With ``max-size`` the file rotates to ``container.log.1``, ``.2``, ... keeping ``max-file``
files in all. The reader serves ``--tail``, ``--since``/``--until`` and ``--follow``.

The writer half runs inside the shim, so module-level imports stay minimal (json, os, time);
the reader imports more lazily. Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

from dockyard import errors

__all__ = [
    "LogEntry",
    "LogWriter",
    "format_entry",
    "format_time",
    "log_files",
    "parse_log_opts",
    "parse_size",
    "parse_time",
    "read_logs",
]

MAX_LINE = 16 * 1024
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


class LogEntry(NamedTuple):
    """One decoded log record; *text* keeps its newline (none on a partial entry)."""

    time_ns: int
    stream: str
    text: str


def format_time(ns: int, fixed: bool = False) -> str:
    """RFC3339Nano in UTC; Go trims trailing zeros unless *fixed* (``docker logs -t``)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    digits = f"{frac:09d}"
    if not fixed:
        digits = digits.rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def parse_size(value: str) -> int:
    """``10m`` → bytes (binary units k/m/g, as Docker's json-file). Raises InvalidArgument."""
    text = value.strip().lower().removesuffix("ib").removesuffix("b")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    number = text[: len(text) - len(unit)]
    try:
        size = float(number) * _UNITS[unit]
    except ValueError:
        raise errors.InvalidArgument(f"invalid size: {value!r}") from None
    if size < 0:
        raise errors.InvalidArgument(f"invalid size: {value!r}")
    return int(size)


def parse_log_opts(opts: dict[str, str]) -> tuple[int, int]:
    """``{"max-size": "10m", "max-file": "3"}`` → (max_size bytes, max_file). Raises InvalidArgument."""
    unknown = set(opts) - {"max-size", "max-file", "compress", "labels", "env", "tag"}
    if unknown:
        raise errors.InvalidArgument(
            f"unknown log opt '{sorted(unknown)[0]}' for json-file log driver"
        )
    max_size = parse_size(opts["max-size"]) if opts.get("max-size") else 0
    try:
        max_file = int(opts.get("max-file", "1"))
    except ValueError:
        raise errors.InvalidArgument(f"invalid max-file: {opts['max-file']!r}") from None
    if max_file < 1:
        raise errors.InvalidArgument("max-file cannot be less than 1")
    if max_file > 1 and not max_size:
        raise errors.InvalidArgument("max-file cannot be set without max-size")
    return max_size, max_file


_json_string = json.encoder.encode_basestring  # the C encoder, keeps non-ASCII as UTF-8


def _encode(raw: bytes, suffix: bytes) -> bytes:
    return b'{"log":' + _json_string(raw.decode("utf-8", "replace")).encode() + suffix


class LogWriter:
    """Appends entries to *path*, splitting chunks into lines and rotating by size."""

    def __init__(self, path: str, max_size: int = 0, max_file: int = 1) -> None:
        self.path = path
        self.max_size = max_size
        self.max_file = max_file
        self._pending: dict[str, bytes] = {}
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, stream: str, data: bytes) -> None:
        """Record a chunk read from *stream*; an incomplete last line waits for the rest."""
        buf = self._pending.pop(stream, b"") + data
        suffix = self._suffix(stream, time.time_ns())
        out: list[bytes] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0 or end - start >= MAX_LINE:
                if len(buf) - start >= MAX_LINE:
                    out.append(_encode(buf[start : start + MAX_LINE], suffix))
                    start += MAX_LINE
                    continue
                break
            out.append(_encode(buf[start : end + 1], suffix))
            start = end + 1
        if start < len(buf):
            self._pending[stream] = buf[start:]
        self._append(out)

    def flush(self) -> None:
        """Write held-back partial lines as entries (the stream closed without a newline)."""
        now = time.time_ns()
        for stream, rest in sorted(self._pending.items()):
            self._append([_encode(rest, self._suffix(stream, now))])
        self._pending.clear()

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        os.close(self._fd)

    @staticmethod
    def _suffix(stream: str, now: int) -> bytes:
        """The record's tail, shared by every line of one chunk (one timestamp per read)."""
        return f',"stream":{_json_string(stream)},"time":"{format_time(now)}"}}\n'.encode()

    def _append(self, lines: list[bytes]) -> None:
        """Write *lines*, in one syscall unless a rotation falls among them."""
        batch = b"".join(lines)
        if not self.max_size or self._size + len(batch) <= self.max_size:
            os.write(self._fd, batch)
            self._size += len(batch)
            return
        for line in lines:
            if self._size and self._size + len(line) > self.max_size:
                self._rotate()
            os.write(self._fd, line)
            self._size += len(line)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self.max_file > 1:
            for i in range(self.max_file - 1, 0, -1):
                src = self.path if i == 1 else f"{self.path}.{i - 1}"
                if os.path.exists(src):
                    os.replace(src, f"{self.path}.{i}")
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        else:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        self._fd = os.open(self.path, flags, 0o640)
        self._size = 0


def log_files(path: str) -> list[str]:
    """The log's files oldest first: ``path.N`` ... ``path.1``, ``path``."""
    rotated: list[str] = []
    i = 1
    while os.path.exists(f"{path}.{i}"):
        rotated.append(f"{path}.{i}")
        i += 1
    current = [path] if os.path.exists(path) else []
    return [*reversed(rotated), *current]


_second_cache: dict[str, int] = {}


def _log_time_ns(text: str) -> int:
    """A log record's ``time``; lines of the same second share one parse (the common case)."""
    head = text[:19]
    if not (text.endswith("Z") and text[19:20] in (".", "Z")):
        return parse_time(text)
    secs = _second_cache.get(head)
    if secs is None:
        if len(_second_cache) > 1024:
            _second_cache.clear()
        secs = _second_cache[head] = parse_time(head + "Z") // 1_000_000_000
    frac = text[20:-1] if text[19] == "." else ""
    if frac and not frac.isdigit():
        raise errors.InvalidArgument(f"invalid value for time: {text!r}")
    return secs * 1_000_000_000 + int(frac.ljust(9, "0")[:9] or "0")


def _decode(line: bytes) -> LogEntry | None:
    try:
        rec = json.loads(line)
        return LogEntry(_log_time_ns(rec["time"]), rec["stream"], rec["log"])
    except (ValueError, KeyError, TypeError, errors.InvalidArgument):
        return None  # a torn last line (writer mid-append) or foreign garbage


def _reverse_lines(path: str, chunk: int = 65536) -> Iterator[bytes]:
    """Complete lines of *path* from the last to the first, reading blocks from the end."""
    with open(path, "rb") as f:
        pos = f.seek(0, os.SEEK_END)
        rest = b""
        while pos > 0:
            step = min(chunk, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step) + rest
            lines = block.split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line:
                    yield line
        if rest:
            yield rest


def _tail(files: list[str], n: int) -> list[bytes]:
    picked: list[bytes] = []
    for path in reversed(files):
        for line in _reverse_lines(path):
            if len(picked) >= n:
                return picked[::-1]
            picked.append(line)
    return picked[::-1]


def read_logs(
    path: str,
    tail: int | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
    follow: bool = False,
    stopped: Callable[[], bool] | None = None,
    poll: float = 0.1,
) -> Iterator[LogEntry]:
    """Entries of the log at *path*, oldest first.

    *tail* keeps the last N lines (taken before the time filters, as Docker does);
    *since_ns*/*until_ns* bound the entries' times. With *follow*, wait for new entries
    until *stopped()* is true (the container exited) and the file has been read to its end.
    """

    def wanted(entry: LogEntry) -> bool:
        return (since_ns is None or entry.time_ns >= since_ns) and (
            until_ns is None or entry.time_ns <= until_ns
        )

    files = log_files(path)
    if tail is not None and tail >= 0:
        lines: Iterator[bytes] = iter(_tail(files, tail))
        start_fd = _open_at_end(path) if follow else None
    else:
        start_fd = None
        lines = _all_lines(files[:-1] if follow and files[-1:] == [path] else files)
        if follow:
            start_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC) if files else None
    for line in lines:
        entry = _decode(line)
        if entry is not None and wanted(entry):
            yield entry
    if not follow:
        return
    for entry in _follow(path, start_fd, stopped or (lambda: False), poll):
        if until_ns is not None and entry.time_ns > until_ns:
            return
        if wanted(entry):
            yield entry


def _all_lines(files: list[str]) -> Iterator[bytes]:
    for name in files:
        try:
            with open(name, "rb") as f:
                yield from (line.rstrip(b"\n") for line in f)
        except FileNotFoundError:
            continue  # rotated away while we read


def _open_at_end(path: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    os.lseek(fd, 0, os.SEEK_END)
    return fd


def _follow(
    path: str, fd: int | None, stopped: Callable[[], bool], poll: float
) -> Iterator[LogEntry]:
    """Read from *fd* (or *path* once it appears) as the writer appends, across rotations."""
    rest = b""
    try:
        while True:
            done = stopped()  # sampled before the read: a final write is never missed
            if fd is None:
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    if done:
                        return
                    time.sleep(poll)
                    continue
            data = os.read(fd, 1 << 20)
            replaced = not data and _replaced(path, fd)
            if replaced:  # drain what the writer appended before it renamed the file
                data = os.read(fd, 1 << 20)
            if data:
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    entry = _decode(line)
                    if entry is not None:
                        yield entry
                continue
            if replaced:
                os.close(fd)
                fd, rest = None, b""
                continue
            if done:
                return
            time.sleep(poll)
    finally:
        if fd is not None:
            os.close(fd)


def _replaced(path: str, fd: int) -> bool:
    """Whether *path* now names another file (rotated) or was truncated below our offset."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    if (st.st_ino, st.st_dev) != (mine.st_ino, mine.st_dev):
        return True
    if st.st_size < os.lseek(fd, 0, os.SEEK_CUR):
        os.lseek(fd, 0, os.SEEK_SET)
    return False


def format_entry(entry: LogEntry, timestamps: bool = False) -> str:
    """The text ``docker logs`` prints for *entry* (``-t`` prefixes the fixed-width time)."""
    if timestamps:
        return f"{format_time(entry.time_ns, fixed=True)} {entry.text}"
    return entry.text


def parse_time(value: str, now_ns: int | None = None) -> int:
    """``--since``/``--until`` and log times → ns since the epoch. Raises InvalidArgument.

    Accepts RFC3339 (up to 9 fractional digits; a zone, else local time as Docker does), a
    date ``2024-01-02``, Unix seconds ``1700000000.5``, or a Go duration ``10m``/``1h30m``
    meaning that long before *now_ns*.
    """
    text = value.strip()
    if not text:
        raise errors.InvalidArgument("empty timestamp")
    if text.replace(".", "", 1).isdigit():
        secs, _, frac = text.partition(".")
        return int(secs) * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])
    if len(text) >= 10 and text[4:5] == "-" and text[7:8] == "-":
        return _rfc3339_ns(text, value)
    now = time.time_ns() if now_ns is None else now_ns
    return now - _duration_ns(text, value)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _duration_ns(text: str, original: str) -> int:
    import re

    parts = re.fullmatch(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+", text)
    if not parts:
        raise errors.InvalidArgument(f"invalid value for time: {original!r}")
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", text):
        total += float(number) * _DURATION_UNITS[unit]
    return int(total)


def _rfc3339_ns(text: str, original: str) -> int:
    import datetime as dt

    bad = errors.InvalidArgument(f"invalid value for time: {original!r}")
    if len(text) == 10:
        text += "T00:00:00"
    head, rest = text[:19].replace(" ", "T"), text[19:]
    frac_ns = 0
    if rest.startswith("."):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac_ns = int(rest[1:i].ljust(9, "0")[:9] or "0")
        rest = rest[i:]
    try:
        moment = dt.datetime.fromisoformat(head)
        if rest in ("Z", "z"):
            moment = moment.replace(tzinfo=dt.UTC)
        elif rest:
            if len(rest) != 6 or rest[0] not in "+-" or rest[3] != ":":
                raise bad
            offset = dt.timedelta(hours=int(rest[1:3]), minutes=int(rest[4:6]))
            moment = moment.replace(tzinfo=dt.timezone(offset if rest[0] == "+" else -offset))
    except ValueError:
        raise bad from None
    return int(moment.timestamp()) * 1_000_000_000 + frac_ns
