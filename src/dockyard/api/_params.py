"""Query-string parsing the Docker way: booleans, ``filters`` JSON, Unix timestamps.

Pure functions over strings (no aiohttp). Every bad value raises InvalidArgument, which the
daemon answers with 400.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dockyard import errors

__all__ = ["boolean", "filters", "rfc3339_to_unix", "timestamp_nano"]

_FALSE = {"", "0", "no", "false", "none"}


def boolean(value: str | None, default: bool = False) -> bool:
    """Docker's ``BoolValue``: absent → *default*; ``""``, 0, no, false, none → False."""
    if value is None:
        return default
    return value.strip().lower() not in _FALSE


def filters(value: str | None) -> dict[str, list[str]]:
    """The ``filters`` parameter: ``{"label": {"a=b": true}}`` or the legacy ``{"label": ["a=b"]}``.

    Raises InvalidArgument for anything that is not one of those shapes.
    """
    if not value:
        return {}
    try:
        doc = json.loads(value)
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid filters: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.InvalidArgument("invalid filters: not a JSON object")
    out: dict[str, list[str]] = {}
    for key, values in doc.items():
        if isinstance(values, dict):
            out[key] = [str(v) for v, on in values.items() if on]
        elif isinstance(values, list):
            out[key] = [str(v) for v in values]
        else:
            raise errors.InvalidArgument(f"invalid filter {key!r}: expected a map or a list")
    return out


def timestamp_nano(value: str | None) -> int | None:
    """``since``/``until`` of ``/events``: Unix seconds with an optional fraction → nanoseconds.

    Raises InvalidArgument for a value that is not a number.
    """
    if not value:
        return None
    seconds, _, fraction = value.partition(".")
    if not seconds.lstrip("-").isdigit() or (fraction and not fraction.isdigit()):
        raise errors.InvalidArgument(f"invalid timestamp: {value!r}")
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return int(seconds) * 1_000_000_000 + nanos


def rfc3339_to_unix(value: str) -> int:
    """``2024-01-01T00:00:00.123Z`` → Unix seconds (0 when it cannot be read)."""
    text = value.strip()
    if not text:
        return 0
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, dot, rest = text.partition(".")
    if dot:  # Python reads at most six fraction digits: drop the fraction, keep the offset
        offset = next((rest[i:] for i, c in enumerate(rest) if c in "+-"), "")
        text = main + offset
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())
