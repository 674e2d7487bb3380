"""Progress of a pull or push, as data: what Docker's JSON message stream carries.

``image/pull.py`` and ``image/push.py`` emit these through a callback; the CLI renders them
(a live view on a terminal, plain lines otherwise) and the API can stream them as Docker's
``{"status", "id", "progressDetail"}`` objects. Pure; standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Progress",
    "ProgressFn",
    "docker_json",
    "human_size",
    "ignore",
    "progress_bar",
    "short_id",
]


@dataclass(frozen=True)
class Progress:
    """One message: a line of its own (``id`` None) or the status of one layer.

    ``current``/``total`` are bytes, set while downloading, uploading or extracting.
    """

    status: str
    id: str | None = None
    current: int | None = None
    total: int | None = None


ProgressFn = Callable[[Progress], None]


def ignore(event: Progress) -> None:
    """A progress callback that drops everything."""


def short_id(digest: str) -> str:
    """``sha256:a46fbb00284b…`` → ``a46fbb00284b``, the id Docker shows for a layer."""
    return digest.split(":", 1)[-1][:12]


_BAR_WIDTH = 50
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(size: float) -> str:
    """Docker's sizes: decimal units, four significant digits (``2.152MB``, ``770.9kB``)."""
    i = 0
    while size >= 1000 and i < len(_UNITS) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{_UNITS[i]}"


def progress_bar(current: int | None, total: int | None) -> str:
    """``[=====>      ]  12.3MB/40MB`` as Docker draws it; just the count when the total is unknown."""
    if current is None:
        return ""
    if not total or current > total:
        return f"{human_size(current):>8}"
    filled = min(int(current / total * 100) // 2, _BAR_WIDTH)
    box = "[" + "=" * filled + ">" + " " * (_BAR_WIDTH - filled) + "] "
    return f"{box}{human_size(current):>8}/{human_size(total)}"


def docker_json(event: Progress) -> dict[str, object]:
    """The event as one object of Docker's JSON message stream (``POST /images/create``)."""
    out: dict[str, object] = {"status": event.status}
    if event.id is not None:
        out["id"] = event.id
    if event.current is not None:
        detail: dict[str, int] = {"current": event.current}
        if event.total:
            detail["total"] = event.total
        out["progressDetail"] = detail
        out["progress"] = progress_bar(event.current, event.total)
    elif event.id is not None:
        out["progressDetail"] = {}
    return out
