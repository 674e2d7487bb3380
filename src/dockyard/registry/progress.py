"""Progress of a pull or push, as data: what Docker's JSON message stream carries.

``image/pull.py`` and ``image/push.py`` emit these through a callback; the CLI renders them
(a live view on a terminal, plain lines otherwise) and the API can stream them as Docker's
``{"status", "id", "progressDetail"}`` objects. Pure; standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Progress", "ProgressFn", "ignore", "short_id"]


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
