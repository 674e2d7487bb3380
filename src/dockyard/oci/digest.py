"""Content digests (``algorithm:hex``), as the OCI image spec defines them. Pure, stdlib only.

``hashlib`` (OpenSSL, ~5 ms to load) is imported when a blob is hashed, not with this module:
a container's start hashes only a few short names (:func:`sha256_hex`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dockyard import errors

if TYPE_CHECKING:
    import hashlib

__all__ = ["is_digest", "sha256_bytes", "sha256_hex", "split", "validate"]

_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_ANY = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


def is_digest(value: str) -> bool:
    """True for a digest Dockyard can verify (sha256 or sha512, lowercase hex)."""
    return bool(_DIGEST.match(value))


def validate(value: str) -> str:
    """Return *value* if it is a verifiable digest; raises InvalidArgument otherwise."""
    if _DIGEST.match(value):
        return value
    if _ANY.match(value):
        raise errors.InvalidArgument(f"unsupported digest algorithm: {value}")
    raise errors.InvalidArgument(f"invalid digest: {value!r}")


def split(value: str) -> tuple[str, str]:
    """``sha256:abc…`` → ``("sha256", "abc…")`` after validation."""
    algorithm, _, hexpart = validate(value).partition(":")
    return algorithm, hexpart


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of a few bytes (a name, a key), with the small builtin module."""
    try:
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha256
    return sha256(data).hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The ``sha256:`` digest of *data*."""
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def hasher(digest: str) -> hashlib._Hash:
    """A fresh hash object for the algorithm of *digest*."""
    import hashlib

    algorithm, _ = split(digest)
    return hashlib.new(algorithm)


def chain_ids(diff_ids: list[str]) -> list[str]:
    """Chain ids of a layer stack, per the OCI image spec: ChainID(L0) = DiffID(L0),
    ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else sha256_bytes(f"{out[-1]} {diff_id}".encode()))
    return out
