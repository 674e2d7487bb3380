"""Sizes and durations the way Docker prints them (``4.26MB``, ``2 hours ago``)."""

from __future__ import annotations

from datetime import UTC, datetime

from dockyard.service.humanize import human_duration

__all__ = ["human_duration", "human_size", "parse_time", "since"]


def human_size(size: float, precision: int = 3) -> str:
    """Decimal units with three significant digits: ``4.26MB``, ``856kB``, ``0B``."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{units[i]}"


def parse_time(value: str) -> datetime:
    """Parse RFC 3339 with up to nanoseconds (Python takes microseconds)."""
    text = value.rstrip("Z").replace("z", "")
    offset = ""
    if "+" in text[10:]:
        text, offset = text[:10] + text[10:].split("+")[0], "+" + text[10:].split("+")[1]
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6].ljust(6, '0')}"
    parsed = datetime.fromisoformat(text + (offset or "+00:00"))
    return parsed.astimezone(UTC)


def since(value: str) -> str:
    """``2 hours ago`` for an RFC 3339 timestamp."""
    try:
        then = parse_time(value)
    except ValueError:
        return "N/A"
    return human_duration((datetime.now(UTC) - then).total_seconds()) + " ago"
