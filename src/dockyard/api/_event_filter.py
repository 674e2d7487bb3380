"""The ``filters`` of ``GET /events``, as dockerd applies them. Pure: no aiohttp, no I/O.

Keys are ANDed, the values of one key ORed. ``container``, ``network``, ``volume`` and the
other object keys match an actor id by prefix or its ``name`` attribute exactly; ``image``
matches an id or image name exactly, with or without its tag.
"""

from __future__ import annotations

from dockyard import errors
from dockyard.metadata.events import Event
from dockyard.oci import reference

__all__ = ["EventFilter"]

_OBJECT_KEYS = {"container", "network", "volume", "plugin", "node", "service", "secret", "config"}
_KNOWN = _OBJECT_KEYS | {"type", "event", "image", "label", "daemon", "scope"}


def _strip_tag(name: str) -> str:
    try:
        ref = reference.parse(name)
    except errors.InvalidArgument:
        return name
    return ref.familiar_name() if ref.tag is not None and ref.digest is None else name


class EventFilter:
    def __init__(self, filters: dict[str, list[str]]) -> None:
        """Raises InvalidArgument for a filter dockerd does not know."""
        unknown = set(filters) - _KNOWN
        if unknown:
            raise errors.InvalidArgument(f"invalid filter '{sorted(unknown)[0]}'")
        self._f = {k: v for k, v in filters.items() if v}

    def _fuzzy(self, key: str, ev: Event) -> bool:
        wanted = self._f.get(key)
        if not wanted:
            return True
        name = ev.attributes.get("name", "")
        return any(ev.actor_id.startswith(w) or w == name for w in wanted)

    def _image(self, ev: Event) -> bool:
        wanted = self._f.get("image")
        if not wanted:
            return True
        name = ev.attributes.get("name" if ev.type == "image" else "image", "")
        candidates = {ev.actor_id, name, _strip_tag(ev.actor_id), _strip_tag(name)} - {""}
        return any(w in candidates for w in wanted)

    def _labels(self, ev: Event) -> bool:
        for want in self._f.get("label", []):
            key, sep, value = want.partition("=")
            if key not in ev.attributes or (sep and ev.attributes[key] != value):
                return False
        return True

    def match(self, ev: Event) -> bool:
        f = self._f
        if "type" in f and ev.type not in f["type"]:
            return False
        if "event" in f and ev.action not in f["event"] and ev.action.split(":")[0] not in f["event"]:
            return False
        if "scope" in f and "local" not in f["scope"]:
            return False
        if "daemon" in f and ev.type != "daemon":
            return False
        return all(self._fuzzy(k, ev) for k in _OBJECT_KEYS) and self._image(ev) and self._labels(ev)
