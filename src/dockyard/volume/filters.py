"""``--filter`` for ``volume ls`` and ``volume prune``, as Docker reads them.

``volume ls``: ``dangling=true|false`` (used by no container), ``driver=local``,
``label=KEY`` or ``label=KEY=VALUE``, ``name=PATTERN`` (a regular expression searched in the
name, or an exact name). ``volume prune``: ``label=``, ``label!=`` and ``all=true``. Values
of one key are alternatives, except labels, which must all match. Pure: imports only the
standard library, ``dockyard.errors`` and the package's model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from dockyard import errors
from dockyard.volume.model import VolumeRecord

__all__ = ["LS_FILTERS", "PRUNE_FILTERS", "matches", "parse_filters"]

LS_FILTERS = frozenset({"dangling", "driver", "label", "name"})
PRUNE_FILTERS = frozenset({"label", "label!", "all"})
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


def parse_filters(values: Sequence[str], known: frozenset[str]) -> dict[str, list[str]]:
    """``["dangling=true", "label=a=b"]`` → ``{"dangling": ["true"], "label": ["a=b"]}``.

    Raises InvalidArgument for a value without ``=`` or a key outside *known*, and for a
    ``dangling``/``all`` value that is not a boolean.
    """
    out: dict[str, list[str]] = {}
    for value in values:
        key, sep, arg = value.partition("=")
        if not sep:
            raise errors.InvalidArgument(f"bad format of filter (expected name=value): {value}")
        key = key.strip().lower()
        if key not in known:
            raise errors.InvalidArgument(f"invalid filter '{key}'")
        if key in ("dangling", "all") and arg.lower() not in _BOOLS:
            raise errors.InvalidArgument(f"invalid filter '{key}={arg}'")
        out.setdefault(key, []).append(arg)
    return out


def _label_ok(labels: Mapping[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def _name_ok(name: str, pattern: str) -> bool:
    if name == pattern:
        return True
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def matches(
    record: VolumeRecord, filters: Mapping[str, list[str]], used: Callable[[str], bool]
) -> bool:
    """True when *record* passes every filter; *used* says whether a volume has users."""
    dangling = filters.get("dangling")
    if dangling and any(_BOOLS[v.lower()] == used(record.name) for v in dangling):
        return False
    drivers = filters.get("driver")
    if drivers and record.driver not in drivers:
        return False
    if not all(_label_ok(record.labels, w) for w in filters.get("label", [])):
        return False
    if any(_label_ok(record.labels, w) for w in filters.get("label!", [])):
        return False
    names = filters.get("name")
    return not names or any(_name_ok(record.name, p) for p in names)
