"""The Engine API versions the daemon speaks, and the check of a ``/v1.NN`` path prefix.

Pure: no aiohttp, nothing from the engine. A request without a prefix gets the newest version.
"""

from __future__ import annotations

from dockyard import errors

__all__ = ["MAX_API_VERSION", "MIN_API_VERSION", "check", "parse"]

from dockyard.service.apiversion import MAX_API_VERSION, MIN_API_VERSION


def parse(version: str) -> tuple[int, int]:
    """``"1.41"`` → ``(1, 41)``. Raises InvalidArgument for anything else."""
    major, dot, minor = version.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        raise errors.InvalidArgument(f"invalid API version: {version!r}")
    return int(major), int(minor)


def check(version: str) -> str:
    """The requested version when the daemon speaks it; Docker's messages otherwise.

    Raises InvalidArgument (``client version 1.12 is too old. …``).
    """
    wanted = parse(version)
    if wanted < parse(MIN_API_VERSION):
        raise errors.InvalidArgument(
            f"client version {version} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version"
        )
    if wanted > parse(MAX_API_VERSION):
        raise errors.InvalidArgument(
            f"client version {version} is too new. Maximum supported API version is "
            f"{MAX_API_VERSION}"
        )
    return version


def at_least(version: str, minimum: str) -> bool:
    """Whether the request's *version* is *minimum* or newer (for version-dependent fields)."""
    return parse(version) >= parse(minimum)
