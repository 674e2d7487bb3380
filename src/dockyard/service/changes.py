"""``--change`` instructions (``import``, ``commit``): Dockerfile lines applied to an image config.

Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
WORKDIR here; anything else is refused with Docker's message.
"""

from __future__ import annotations

import copy
import json
import shlex
from typing import Any

from dockyard import errors

__all__ = ["apply_changes"]

_ALLOWED = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
            "VOLUME", "WORKDIR", "HEALTHCHECK"}


def _exec_or_shell(rest: str) -> list[str]:
    rest = rest.strip()
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", rest]


def _pairs(rest: str, what: str) -> list[tuple[str, str]]:
    words = shlex.split(rest)
    if len(words) >= 1 and "=" not in words[0]:
        key, _, value = rest.strip().partition(" ")
        return [(key, value.strip())]
    out = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise errors.InvalidArgument(f"{what} names can not be blank or lack a value: {word}")
        out.append((key, value))
    return out


def apply_changes(config: dict[str, Any], changes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Return a copy of an image's ``config`` object with the *changes* applied.

    Raises InvalidArgument for an instruction Docker does not allow here.
    """
    out = copy.deepcopy(config)
    for change in changes:
        keyword, _, rest = change.strip().partition(" ")
        name = keyword.upper()
        if name not in _ALLOWED:
            raise errors.InvalidArgument(f"{keyword} is not a valid change command")
        if name == "CMD":
            out["Cmd"] = _exec_or_shell(rest)
        elif name == "ENTRYPOINT":
            out["Entrypoint"] = _exec_or_shell(rest)
        elif name == "ENV":
            env = [e for e in out.get("Env") or []]
            for key, value in _pairs(rest, "ENV"):
                env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
            out["Env"] = env
        elif name == "LABEL":
            labels = dict(out.get("Labels") or {})
            labels.update(_pairs(rest, "LABEL"))
            out["Labels"] = labels
        elif name == "EXPOSE":
            ports = dict(out.get("ExposedPorts") or {})
            for port in rest.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            out["ExposedPorts"] = ports
        elif name == "VOLUME":
            volumes = dict(out.get("Volumes") or {})
            for path in _exec_or_shell(rest) if rest.strip().startswith("[") else rest.split():
                volumes[path] = {}
            out["Volumes"] = volumes
        elif name == "USER":
            out["User"] = rest.strip()
        elif name == "WORKDIR":
            out["WorkingDir"] = rest.strip()
        elif name == "STOPSIGNAL":
            out["StopSignal"] = rest.strip()
        elif name == "ONBUILD":
            out["OnBuild"] = [*(out.get("OnBuild") or []), rest.strip()]
    return out
