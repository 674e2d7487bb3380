"""The error tree of Dockyard: a few categories, each with its HTTP status and CLI exit code.

Every error the engine raises is one of these categories, carrying a message that names the
object (``No such container: web``). The shells (``cli/``, ``api/``) map categories to exit
codes and HTTP statuses in one place each, reading the attributes below.

This module imports nothing from Dockyard (layer L0).
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "Conflict",
    "DigestMismatch",
    "DockyardError",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Unavailable",
]


class DockyardError(Exception):
    """Base of every error the engine raises on purpose. Unexpected failures are 500/125."""

    http_status = 500
    exit_code = 125

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DockyardError):
    """The named object does not exist: ``No such image: busybox:latest``."""

    http_status = 404


class AlreadyExists(DockyardError):
    """An object with that name or key exists already."""

    http_status = 409


class Conflict(DockyardError):
    """The operation clashes with the object's use: an image used by a container, say."""

    http_status = 409


class FailedPrecondition(DockyardError):
    """The object is not in a state that allows the operation (container not running)."""

    http_status = 409


class InvalidArgument(DockyardError):
    """Bad input from the user: a malformed reference, flag, archive or layer."""

    http_status = 400


class DigestMismatch(InvalidArgument):
    """Content whose bytes do not hash to the digest it was announced with."""


class PermissionDenied(DockyardError):
    """Credentials refused, or an operation the caller may not perform."""

    http_status = 403


class Unavailable(DockyardError):
    """A peer (registry, daemon, kernel feature) that cannot be reached or is missing."""

    http_status = 503
