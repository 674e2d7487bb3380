"""Docker's vocabulary of mount modes and its error messages, shared by the parsers.

A ``-v`` mode is a comma list holding at most one of each kind: ``rw``/``ro``, a relabel hint
(``z``/``Z``), a propagation (``private``, ``rshared``...), ``nocopy``, a consistency
(``consistent``, ``cached``, ``delegated``; accepted and ignored on Linux).

Pure: imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import posixpath

from dockyard import errors

__all__ = [
    "PROPAGATIONS",
    "clean_path",
    "config_error",
    "copy_mode",
    "propagation_of",
    "read_write",
    "valid_mode",
    "validate_target",
]

RW_MODES = frozenset({"rw", "ro"})
LABEL_MODES = frozenset({"z", "Z"})
PROPAGATIONS = frozenset({"private", "rprivate", "shared", "rshared", "slave", "rslave"})
COPY_MODES = frozenset({"nocopy"})
CONSISTENCY_MODES = frozenset({"consistent", "cached", "delegated"})
_KINDS = (RW_MODES, LABEL_MODES, PROPAGATIONS, COPY_MODES, CONSISTENCY_MODES)


def valid_mode(mode: str) -> bool:
    """True when *mode* is empty or a comma list with at most one word of each kind."""
    if mode == "":
        return True
    counts = [0] * len(_KINDS)
    for word in mode.split(","):
        for i, kind in enumerate(_KINDS):
            if word in kind:
                counts[i] += 1
                break
        else:
            return False
    return all(c <= 1 for c in counts)


def read_write(mode: str) -> bool:
    """False when the mode says ``ro``; every other mode is writable."""
    return "ro" not in mode.split(",")


def propagation_of(mode: str) -> str:
    """The propagation word of *mode*, or ``""``."""
    return next((w for w in mode.split(",") if w in PROPAGATIONS), "")


def copy_mode(mode: str) -> bool | None:
    """False when the mode says ``nocopy``, None when it says nothing about copying."""
    return False if "nocopy" in mode.split(",") else None


def labels_of(mode: str) -> tuple[str, ...]:
    """The relabel hints (``z``/``Z``) of *mode*."""
    return tuple(w for w in mode.split(",") if w in LABEL_MODES)


def clean_path(path: str) -> str:
    """``path.Clean`` of Go: no trailing slash, no ``.``/``..`` parts, ``//`` folded."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def config_error(kind: str, message: str) -> errors.InvalidArgument:
    """Docker's ``invalid mount config for type "bind": <message>``."""
    return errors.InvalidArgument(f'invalid mount config for type "{kind}": {message}')


def validate_target(target: str) -> str | None:
    """The problem with a container path (Docker's words), or None when it is usable."""
    if not target:
        return "field Target must not be empty"
    if clean_path(target) == "/":
        return "invalid specification: destination can't be '/'"
    if not target.startswith("/"):
        return f"invalid mount path: '{target}' mount path must be absolute"
    return None
