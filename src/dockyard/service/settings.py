"""Where the engine keeps its state, and the knobs a user can set (flags or environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_ROOT", "Settings"]

DEFAULT_ROOT = Path("/var/lib/dockyard")
DEFAULT_EXEC_ROOT = Path("/run/dockyard")


@dataclass(frozen=True)
class Settings:
    """Paths and defaults of one engine. ``root`` holds everything that persists."""

    root: Path = DEFAULT_ROOT
    exec_root: Path = DEFAULT_EXEC_ROOT

    @classmethod
    def resolve(cls, root: str | os.PathLike[str] | None = None) -> Settings:
        """Settings from an explicit ``--root``, else ``DOCKYARD_ROOT``, else the default.

        A non-default root gets its own exec root beside it, so two engines never share
        sockets or runtime state.
        """
        chosen = root or os.environ.get("DOCKYARD_ROOT")
        if not chosen:
            return cls()
        path = Path(chosen).absolute()
        return cls(root=path, exec_root=path / "run")
