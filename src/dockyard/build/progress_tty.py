"""The live, compact build view for a terminal: one line per running step with its timer and
the last lines of its output; finished steps collapse to one line (``CACHED`` or ``DONE``).

Implements ``progress.Progress``. Imports ``rich`` (only this module does, and only when a
terminal asked for it) and the standard library.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TtyProgress"]

_TAIL = 6


@dataclass
class _Vertex:
    name: str
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    status: str = ""
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL))


class TtyProgress:
    """A rich ``Live`` display on stderr; call ``close`` when the build ends."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console(stderr=True)
        self._lock = threading.Lock()
        self._vertices: dict[int, _Vertex] = {}
        self._started = time.monotonic()
        self._live = Live(console=self._console, refresh_per_second=8, transient=False,
                          get_renderable=self._render)  # fmt: skip
        self._live.start()

    def _render(self) -> Any:
        from rich.text import Text

        with self._lock:
            elapsed = time.monotonic() - self._started
            text = Text(f"[+] Building {elapsed:.1f}s\n", style="bold")
            for number, v in sorted(self._vertices.items()):
                took = (v.ended or time.monotonic()) - v.started
                style = {"CACHED": "blue", "DONE": "green", "ERROR": "red"}.get(v.status, "yellow")
                status = v.status or "running"
                text.append(f" => #{number} {v.name}", style=style)
                text.append(f"  {status} {took:.1f}s\n", style="dim")
                if v.status in ("", "ERROR"):
                    for line in v.tail:
                        text.append(f"    {line}\n", style="dim")
            return text

    def start(self, vertex: int, name: str) -> None:
        with self._lock:
            self._vertices[vertex] = _Vertex(name)

    def output(self, vertex: int, line: str) -> None:
        with self._lock:
            if vertex in self._vertices:
                self._vertices[vertex].tail.append(line)

    def _end(self, vertex: int, status: str) -> None:
        with self._lock:
            if vertex in self._vertices:
                self._vertices[vertex].ended = time.monotonic()
                self._vertices[vertex].status = status

    def cached(self, vertex: int) -> None:
        self._end(vertex, "CACHED")

    def done(self, vertex: int) -> None:
        self._end(vertex, "DONE")

    def error(self, vertex: int, message: str) -> None:
        self.output(vertex, f"ERROR: {message}")
        self._end(vertex, "ERROR")

    def close(self) -> None:
        self._live.refresh()
        self._live.stop()
