"""``WWW-Authenticate`` challenges and token scopes, as the distribution token spec defines them.

Pure functions over strings; no I/O. Must not import anything but the standard library.

A challenge looks like ``Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
scope="repository:library/busybox:pull"``; a scope is ``repository:<name>:<actions>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Challenge", "merge_scopes", "parse_challenges", "repository_scope", "scope_key"]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_SCHEME = re.compile(rf"\s*({_TOKEN})(?:\s+|$)")
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^,\s]*)\s*,?")


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge: ``scheme`` in lowercase (``bearer``, ``basic``) and params."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scopes(self) -> list[str]:
        scope = self.params.get("scope", "")
        return scope.split() if scope else []


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_challenges(header: str | None) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value (several may share one header).

    Unparseable text is skipped rather than raised: a registry's odd header must not hide the
    401 it came with.
    """
    out: list[Challenge] = []
    if not header:
        return out
    pos = 0
    while pos < len(header):
        m = _SCHEME.match(header, pos)
        if m is None:
            break
        scheme = m.group(1).lower()
        pos = m.end()
        params: dict[str, str] = {}
        while pos < len(header):
            p = _PARAM.match(header, pos)
            if p is None:
                break
            # A bare token followed by a space (not "=") starts the next challenge.
            params[p.group(1).lower()] = _unquote(p.group(2))
            pos = p.end()
        out.append(Challenge(scheme, params))
        while pos < len(header) and header[pos] in ", ":
            pos += 1
    return out


def repository_scope(name: str, *actions: str) -> str:
    """``repository:library/busybox:pull`` (actions deduplicated, order kept)."""
    wanted = list(dict.fromkeys(actions or ("pull",)))
    return f"repository:{name}:{','.join(wanted)}"


def merge_scopes(scopes: Iterable[str]) -> list[str]:
    """Union of scopes, actions of the same resource merged: ``pull`` + ``push`` → ``pull,push``.

    The result is sorted, so equal sets of rights give equal lists (and equal cache keys).
    """
    merged: dict[str, list[str]] = {}
    for scope in scopes:
        for item in scope.split():
            resource, sep, actions = item.rpartition(":")
            if not sep or not resource:
                merged.setdefault(item, [])
                continue
            bucket = merged.setdefault(resource, [])
            for action in actions.split(","):
                if action and action not in bucket:
                    bucket.append(action)
    out = []
    for resource in sorted(merged):
        wanted = sorted(merged[resource])
        out.append(f"{resource}:{','.join(wanted)}" if wanted else resource)
    return out


def scope_key(scopes: Iterable[str]) -> str:
    """A cache key for a set of scopes."""
    return " ".join(merge_scopes(scopes))
