"""Instruction flags (``COPY --from=build --link``) checked as Docker checks them, and durations.

Each instruction accepts a fixed set of flags, each a boolean (``--link``, ``--link=false``),
a string (``--from=x``; the value is required) or a repeatable string (``--mount=...``).
Anything else is an error Docker would report: ``unknown flag: user``, ``duplicate flag
specified: from``, ``missing a value on flag: chmod``. Flag values are kept as written:
variable expansion (``--from=$BASE``) is the builder's business.

``parse_duration`` reads Go durations (``1m30s``, ``500ms``) as HEALTHCHECK uses them.

Pure functions. Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FLAG_SPECS", "Flag", "FlagError", "parse_duration", "parse_flags"]

BOOL, STRING, STRINGS = "bool", "string", "strings"

#: The flags each instruction accepts and their kinds (instructions not listed take none).
FLAG_SPECS: dict[str, dict[str, str]] = {
    "from": {"platform": STRING},
    "run": {"mount": STRINGS, "network": STRING, "security": STRING, "device": STRINGS},
    "copy": {
        "from": STRING,
        "chown": STRING,
        "chmod": STRING,
        "link": BOOL,
        "parents": BOOL,
        "exclude": STRINGS,
    },
    "add": {
        "chown": STRING,
        "chmod": STRING,
        "link": BOOL,
        "keep-git-dir": BOOL,
        "checksum": STRING,
        "exclude": STRINGS,
        "unpack": BOOL,
    },
    "healthcheck": {
        "interval": STRING,
        "timeout": STRING,
        "start-period": STRING,
        "start-interval": STRING,
        "retries": STRING,
    },
}


class FlagError(ValueError):
    """A flag Docker would refuse; the caller adds the location."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag as given: ``name`` without dashes; booleans read ``"true"``/``"false"``."""

    name: str
    value: str


def parse_flags(instruction: str, raw: Iterable[str]) -> tuple[Flag, ...]:
    """Check the raw ``--name[=value]`` words of ``instruction`` (lower case); raises FlagError."""
    spec = FLAG_SPECS.get(instruction, {})
    seen: set[str] = set()
    out: list[Flag] = []
    for arg in raw:
        if not arg.startswith("--"):
            raise FlagError(f"arg should start with -- : {arg}")
        name, has_value, value = arg[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            raise FlagError(f"unknown flag: {name}")
        if name in seen and kind != STRINGS:
            raise FlagError(f"duplicate flag specified: {name}")
        seen.add(name)
        if kind == BOOL:
            if has_value and not value:
                raise FlagError(f"missing a value on flag: {name}")
            lowered = value.lower()
            if lowered not in ("", "true", "false"):
                raise FlagError(f"expecting boolean value for flag {name}, not: {value}")
            value = lowered or "true"
        elif not has_value:
            raise FlagError(f"missing a value on flag: {name}")
        out.append(Flag(name, value))
    return tuple(out)


_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def parse_duration(text: str) -> int:
    """A Go duration (``1h2m3.5s``, ``-5s``, ``0``) in nanoseconds; raises FlagError."""
    s = text
    negative = s.startswith("-")
    if s[:1] in "+-" and s:
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise FlagError(f'time: invalid duration "{text}"')
    total, pos = 0, 0
    while pos < len(s):
        m = _COMPONENT.match(s, pos)
        assert m is not None
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        if not whole and not frac:
            raise FlagError(f'time: invalid duration "{text}"')
        if not unit:
            raise FlagError(f'time: missing unit in duration "{text}"')
        scale = _UNITS.get(unit)
        if scale is None:
            raise FlagError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = m.end()
    return -total if negative else total
