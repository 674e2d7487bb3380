"""Platforms (``os/architecture[/variant]``) with Go's names, as images and indexes use them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dockyard import errors

__all__ = ["Platform", "host", "parse"]

_MACHINE_TO_GOARCH = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        out = f"{self.os}/{self.architecture}"
        return f"{out}/{self.variant}" if self.variant else out

    def matches(self, other: dict[str, str]) -> bool:
        """Does an index entry's ``platform`` object describe this platform?"""
        if other.get("os") != self.os or other.get("architecture") != self.architecture:
            return False
        variant = other.get("variant")
        if self.variant is None or variant is None:
            return True
        return _normal_variant(self.architecture, variant) == _normal_variant(
            self.architecture, self.variant
        )


def _normal_variant(arch: str, variant: str) -> str:
    return "v8" if arch == "arm64" and variant in ("v8", "8") else variant


def host() -> Platform:
    """The platform of this machine (``linux/amd64`` on x86_64)."""
    arch, variant = _MACHINE_TO_GOARCH.get(os.uname().machine, (os.uname().machine, None))
    return Platform("linux", arch, variant)


def parse(text: str) -> Platform:
    """``linux/arm64/v8`` → Platform; raises InvalidArgument."""
    parts = text.strip().lower().split("/")
    if len(parts) == 1 and parts[0]:
        arch, variant = _MACHINE_TO_GOARCH.get(parts[0], (parts[0], None))
        return Platform(host().os, arch, variant)
    if len(parts) in (2, 3) and all(parts):
        arch, _ = _MACHINE_TO_GOARCH.get(parts[1], (parts[1], None))
        variant = parts[2] if len(parts) == 3 else None
        return Platform(parts[0], arch, variant)
    raise errors.InvalidArgument(f"invalid platform: {text!r}")
