"""``--filter`` for ``images`` and ``image prune``: dangling, reference, label, before, since."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.metadata.images import ImageRecord
from dockyard.oci.reference import Reference

if TYPE_CHECKING:
    from dockyard.service.images import ImageService

__all__ = ["ImageFilter", "parse_filters"]

_KNOWN = {"dangling", "reference", "label", "before", "since", "until"}


def parse_filters(values: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """``["dangling=true", "label=a=b"]`` → ``{"dangling": ["true"], "label": ["a=b"]}``."""
    out: dict[str, list[str]] = {}
    for value in values:
        key, sep, arg = value.partition("=")
        if not sep:
            raise errors.InvalidArgument(f"bad format of filter (expected name=value): {value}")
        out.setdefault(key.strip().lower(), []).append(arg)
    return out


class ImageFilter:
    def __init__(self, filters: dict[str, list[str]], images: ImageService) -> None:
        unknown = set(filters) - _KNOWN
        if unknown:
            raise errors.InvalidArgument(f"invalid filter '{sorted(unknown)[0]}'")
        self._f = filters
        self._dangling: bool | None = None
        for value in filters.get("dangling", []):
            if value.lower() not in ("true", "false", "1", "0"):
                raise errors.InvalidArgument(f"invalid filter 'dangling={value}'")
            self._dangling = value.lower() in ("true", "1")
        self._before = [images.resolve(v).created for v in filters.get("before", [])]
        self._since = [images.resolve(v).created for v in filters.get("since", [])]

    def keep(self, record: ImageRecord, labels: dict[str, str]) -> bool:
        if self._dangling is not None and self._dangling != (not record.repo_tags):
            return False
        for want in self._f.get("label", []):
            key, sep, value = want.partition("=")
            if key not in labels or (sep and labels[key] != value):
                return False
        if any(record.created >= b for b in self._before):
            return False
        if any(record.created <= s for s in self._since):
            return False
        return not (self._f.get("reference") and not record.repo_tags)

    def keep_ref(self, ref: Reference) -> bool:
        patterns = self._f.get("reference")
        if not patterns:
            return True
        candidates = [ref.familiar_name(), ref.familiar(), ref.name, str(ref)]
        return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates)
