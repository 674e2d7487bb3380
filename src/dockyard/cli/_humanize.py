"""Sizes and durations the way Docker prints them (``4.26MB``, ``2 hours ago``)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["human_duration", "human_size", "parse_time", "since"]


def human_size(size: float, precision: int = 3) -> str:
    """Decimal units with three significant digits: ``4.26MB``, ``856kB``, ``0B``."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{units[i]}"


def human_duration(seconds: float) -> str:
    """Docker's coarse durations: ``About a minute``, ``3 hours``, ``2 weeks``."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(s / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


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
