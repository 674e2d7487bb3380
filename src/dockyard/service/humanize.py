"""Durations as Docker prints them (``Up 5 seconds``, ``2 hours ago``): the service uses them
in the ``Status`` field of container lists, the CLI in its tables. Stdlib only, cheap to import."""

from __future__ import annotations

__all__ = ["human_duration"]


def human_duration(seconds: float) -> str:
    """Docker's ``units.HumanDuration``: ``Less than a second``, ``5 seconds``, ``2 hours``."""
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
    if hours < 24 * 14:
        return f"{hours // 24} days"
    if hours < 24 * 60:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 730:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"
