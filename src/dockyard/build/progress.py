"""Build progress: what the builder reports, and the plain, line-per-event rendering of it.

The builder calls a ``Progress`` (a small role) as vertices start, print, finish, come from
the cache or fail; ``PlainProgress`` writes BuildKit's plain format::

    #4 [build 2/3] RUN make
    #4 0.412 cc -o app app.c
    #4 DONE 0.9s
    #5 [stage-1 2/2] COPY --from=build /app /app
    #5 CACHED

Several stages may report at once (they run in threads): every write holds a lock. The live
terminal view lives in the CLI (it needs rich); it implements the same role.

Imports only the standard library.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, TextIO

__all__ = ["NullProgress", "PlainProgress", "Progress"]


class Progress(Protocol):
    """Receives a build's events; ``vertex`` numbers are unique within a build."""

    def start(self, vertex: int, name: str) -> None: ...
    def output(self, vertex: int, line: str) -> None: ...
    def cached(self, vertex: int) -> None: ...
    def done(self, vertex: int) -> None: ...
    def error(self, vertex: int, message: str) -> None: ...


class NullProgress:
    """Reports nothing (``-q``)."""

    def start(self, vertex: int, name: str) -> None:
        pass

    def output(self, vertex: int, line: str) -> None:
        pass

    def cached(self, vertex: int) -> None:
        pass

    def done(self, vertex: int) -> None:
        pass

    def error(self, vertex: int, message: str) -> None:
        pass


class PlainProgress:
    """BuildKit's ``--progress=plain`` lines on ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def start(self, vertex: int, name: str) -> None:
        self._started[vertex] = time.monotonic()
        self._write(f"#{vertex} {name}")

    def _elapsed(self, vertex: int) -> float:
        return time.monotonic() - self._started.get(vertex, time.monotonic())

    def output(self, vertex: int, line: str) -> None:
        self._write(f"#{vertex} {self._elapsed(vertex):.3f} {line}")

    def cached(self, vertex: int) -> None:
        self._write(f"#{vertex} CACHED")

    def done(self, vertex: int) -> None:
        self._write(f"#{vertex} DONE {self._elapsed(vertex):.1f}s")

    def error(self, vertex: int, message: str) -> None:
        self._write(f"#{vertex} ERROR: {message}")
