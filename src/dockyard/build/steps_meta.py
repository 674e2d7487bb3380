"""The metadata-only instructions: how each changes the image config, and its history line.

``apply_metadata(state, inst, escape)`` handles ENV, LABEL, MAINTAINER, EXPOSE, CMD,
ENTRYPOINT, VOLUME, USER, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, ARG (and WORKDIR's config
part) exactly as BuildKit's Dockerfile frontend does, and returns the ``created_by`` text
BuildKit records (``ENV A=b``, ``CMD ["sh" "-c" "x"]``, ``EXPOSE map[80/tcp:{}]``).

Pure functions over a ``StageState``. Imports only the standard library, ``dockyard.errors``
and sibling ``build/`` modules.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from dockyard import errors
from dockyard.build.instructions import Instruction
from dockyard.build.shell import expand_word, split_words
from dockyard.build.state import StageState, env_list_set

__all__ = ["METADATA_INSTRUCTIONS", "apply_arg", "apply_metadata", "go_quoted_list", "shell_args"]

METADATA_INSTRUCTIONS = frozenset(
    {"env", "label", "maintainer", "expose", "cmd", "entrypoint", "volume", "user",
     "stopsignal", "healthcheck", "shell", "onbuild", "arg"}
)  # fmt: skip


def go_quoted_list(items: list[str]) -> str:
    """Go's ``%q`` of a string slice: ``["a" "b"]``."""
    return (
        "[" + " ".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items) + "]"
    )


def shell_args(state: StageState, inst: Instruction) -> list[str]:
    """The command of RUN/CMD/ENTRYPOINT: the JSON array, or the SHELL plus the line."""
    if inst.json_form:
        return list(inst.args)
    return [*state.shell, " ".join(inst.args)]


def _duration(ns: int) -> str:
    if ns == 0:
        return "0s"
    seconds = ns / 1e9
    return f"{seconds:g}s"


def apply_arg(state: StageState, inst: Instruction, build_args: Mapping[str, str],
              meta: Mapping[str, str], escape: str) -> str:  # fmt: skip
    """ARG: bring names into the stage's scope (a --build-arg, the global value, or the default)."""
    shown: list[str] = []
    for name, default in inst.pairs:
        if name in build_args:
            value: str | None = build_args[name]
        elif default is not None:
            value = expand_word(default, state.scope(), escape)
        else:
            value = meta.get(name)
        if value is not None:
            state.args[name] = value
        shown.append(name if default is None else f"{name}={default}")
    return "ARG " + " ".join(shown)


def apply_metadata(state: StageState, inst: Instruction, escape: str) -> str:
    """Apply metadata instruction ``inst`` to ``state``; its history line.

    Raises InvalidArgument for a value Docker refuses (bad port, empty variable name).
    """
    cfg = state.config
    scope = state.scope()

    def word(text: str) -> str:
        return expand_word(text, scope, escape)

    name = inst.name
    if name == "env":
        env = state.env
        shown = []
        for key, raw in inst.pairs:
            k, v = word(key), word(raw or "")
            env = env_list_set(env, k, v)  # later pairs still see the earlier values (Docker)
            shown.append(f"{k}={v}")
        cfg["Env"] = env
        return "ENV " + " ".join(shown)
    if name == "label":
        labels = dict(cfg.get("Labels") or {})
        shown = []
        for key, raw in inst.pairs:
            k, v = word(key), word(raw or "")
            labels[k] = v
            shown.append(f'"{k}"="{v}"' if " " in k + v else f"{k}={v}")
        cfg["Labels"] = labels
        return "LABEL " + " ".join(shown)
    if name == "maintainer":
        state.image["author"] = inst.args[0]
        return "MAINTAINER " + inst.args[0]
    if name == "expose":
        ports = dict(cfg.get("ExposedPorts") or {})
        for raw in inst.args:
            for port in split_words(raw, scope, escape):
                number, _, proto = port.partition("/")
                if not number or not all(p.isdigit() for p in number.split("-")):
                    raise errors.InvalidArgument(f"invalid containerPort: {number}")
                ports[f"{number}/{(proto or 'tcp').lower()}"] = {}
        cfg["ExposedPorts"] = ports
        return "EXPOSE map[" + " ".join(f"{p}:{{}}" for p in sorted(ports)) + "]"
    if name == "cmd":
        cfg["Cmd"] = shell_args(state, inst)
        state.cmd_set = True
        return "CMD " + go_quoted_list(cfg["Cmd"])
    if name == "entrypoint":
        cfg["Entrypoint"] = shell_args(state, inst)
        if not state.cmd_set:
            cfg.pop("Cmd", None)
        return "ENTRYPOINT " + go_quoted_list(cfg["Entrypoint"])
    if name == "volume":
        volumes = dict(cfg.get("Volumes") or {})
        paths = (
            [word(a) for a in inst.args]
            if inst.json_form
            else [v for a in inst.args for v in split_words(a, scope, escape)]
        )
        for path in paths:
            volumes[path] = {}
        cfg["Volumes"] = volumes
        return "VOLUME [" + " ".join(paths) + "]"
    if name == "user":
        cfg["User"] = word(inst.args[0])
        return "USER " + cfg["User"]
    if name == "stopsignal":
        cfg["StopSignal"] = word(inst.args[0])
        return "STOPSIGNAL " + cfg["StopSignal"]
    if name == "healthcheck":
        health = inst.health
        assert health is not None
        hc: dict[str, object] = {"Test": list(health.test)}
        for key, value in (("Interval", health.interval), ("Timeout", health.timeout),
                           ("StartPeriod", health.start_period),
                           ("StartInterval", health.start_interval),
                           ("Retries", health.retries)):  # fmt: skip
            if value:
                hc[key] = value
        cfg["Healthcheck"] = hc
        return (
            f'HEALTHCHECK &{{{go_quoted_list(list(health.test))} "{_duration(health.interval)}" '
            f'"{_duration(health.timeout)}" "{_duration(health.start_period)}" '
            f"\"{_duration(health.start_interval)}\" '\\x{health.retries:02x}'}}"
        )
    if name == "shell":
        cfg["Shell"] = list(inst.args)
        return "SHELL [" + " ".join(inst.args) + "]"
    if name == "onbuild":
        triggers = list(cfg.get("OnBuild") or [])
        triggers.append(inst.onbuild_expression())
        cfg["OnBuild"] = triggers
        return "ONBUILD " + inst.onbuild_expression()
    raise errors.InvalidArgument(f"not a metadata instruction: {name}")


def workdir_path(state: StageState, inst: Instruction, escape: str) -> str:
    """WORKDIR's new directory: expanded, relative to the current one, cleaned."""
    target = expand_word(inst.args[0], state.scope(), escape)
    return posixpath.normpath(posixpath.join(state.workdir, target))
