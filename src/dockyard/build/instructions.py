"""The typed Dockerfile a builder works from: checked instructions grouped into stages.

``parse_dockerfile(text)`` parses (``parser.py``), then checks every instruction as Docker
does before building: the name is known (``Dockerfile:7: unknown instruction: RUNN``), the
flags are the ones it takes, the argument count fits, ``FROM x AS name`` names are valid and
unique, nothing but ``ARG`` comes before the first ``FROM``. The result keeps arguments as
written: variable expansion (``shell.py``) needs the build's ARG/ENV values and is the
builder's step, as is reading heredoc bodies (``Heredoc.content``; ``chomp_content`` for
``<<-``).

Pure functions over the text the caller passes. Imports only the standard library,
``dockyard.errors`` and sibling modules of ``build/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard import errors
from dockyard.build.heredoc import Heredoc, chomp_content, parse_heredoc
from dockyard.build.parse_flags import Flag, FlagError, parse_duration, parse_flags
from dockyard.build.parser import Directive, Node, ParseWarning, parse_nodes

__all__ = [
    "INSTRUCTIONS",
    "Dockerfile",
    "HealthConfig",
    "Instruction",
    "Stage",
    "parse_dockerfile",
]

#: Every instruction Docker knows, lower case.
INSTRUCTIONS = frozenset(
    {"add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
     "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir"}
)  # fmt: skip
_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*\Z")
_ONBUILD_PREFIX = re.compile(r"^\s*ONBUILD\s*", re.IGNORECASE)
_EXACTLY_ONE = frozenset({"maintainer", "stopsignal", "user", "workdir"})
_AT_LEAST_ONE = frozenset({"expose", "volume", "arg", "shell", "healthcheck"})


class _Invalid(ValueError):
    """A check failed; parse_dockerfile adds the file and line."""


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """``HEALTHCHECK`` as the image config wants it; durations in nanoseconds (0: default)."""

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class Instruction:
    """One checked instruction. ``args`` are raw (quotes kept, variables unexpanded).

    ``pairs`` holds ``ENV``/``LABEL`` ``(key, raw value)`` and ``ARG`` ``(name, default or
    None)``; ``trigger`` is an ``ONBUILD``'s instruction; ``health`` a ``HEALTHCHECK``'s.
    """

    name: str
    args: tuple[str, ...]
    flags: tuple[Flag, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    json_form: bool = False
    start_line: int = 0
    end_line: int = 0
    original: str = ""
    pairs: tuple[tuple[str, str | None], ...] = ()
    trigger: Instruction | None = None
    health: HealthConfig | None = None

    def flag(self, name: str, default: str | None = None) -> str | None:
        """The value of flag ``name`` (the last one if repeated), or ``default``."""
        for f in reversed(self.flags):
            if f.name == name:
                return f.value
        return default

    def flag_values(self, name: str) -> tuple[str, ...]:
        """Every value of a repeatable flag (``--mount``), in order."""
        return tuple(f.value for f in self.flags if f.name == name)

    @property
    def destination(self) -> str:
        """The last argument: ``COPY``/``ADD``'s destination."""
        return self.args[-1]

    def sources(self) -> tuple[str | Heredoc, ...]:
        """``COPY``/``ADD`` sources: paths as written, heredocs with their (chomped) body."""
        bodies = {h.name: h for h in self.heredocs}
        out: list[str | Heredoc] = []
        for src in self.args[:-1]:
            marker = parse_heredoc(src)
            if marker is None:
                out.append(src)
                continue
            body = bodies[marker.name].content if marker.name in bodies else ""
            out.append(Heredoc(marker.name, marker.file_descriptor, marker.expand, marker.chomp,
                               chomp_content(body) if marker.chomp else body))  # fmt: skip
        return tuple(out)

    def onbuild_expression(self) -> str:
        """An ``ONBUILD``'s trigger as stored in the image config (heredoc bodies appended)."""
        text = _ONBUILD_PREFIX.sub("", self.original, count=1)
        return text + "".join(f"\n{h.content}{h.name}" for h in self.heredocs)


@dataclass(frozen=True, slots=True)
class Stage:
    """A ``FROM`` and the instructions up to the next one. ``name`` is lower case or ``""``."""

    index: int
    base: str
    name: str
    platform: str | None
    instructions: tuple[Instruction, ...]
    start_line: int
    original: str


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed, checked Dockerfile: its stages, and the ARGs before the first ``FROM``."""

    stages: tuple[Stage, ...]
    meta_args: tuple[Instruction, ...]
    escape_token: str = "\\"
    directives: tuple[Directive, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()

    def stage(self, ref: str | int) -> Stage:
        """The stage named ``ref`` (any case) or at index ``ref``; raises NotFound."""
        for stage in self.stages:
            if stage.name and isinstance(ref, str) and stage.name == ref.lower():
                return stage
            if isinstance(ref, int) and stage.index == ref:
                return stage
        if isinstance(ref, str) and ref.isdigit():
            return self.stage(int(ref))
        raise errors.NotFound(f"No such build stage: {ref}")


def _count(name: str, args: tuple[str, ...]) -> None:
    upper = name.upper()
    if name in _EXACTLY_ONE and len(args) != 1:
        raise _Invalid(f"{upper} requires exactly one argument")
    if name in _AT_LEAST_ONE and not args:
        raise _Invalid(f"{upper} requires at least one argument")
    if name in ("copy", "add"):
        if len(args) < 2:
            raise _Invalid(f"{upper} requires at least two arguments, but only one was "
                           "provided. Destination could not be determined")  # fmt: skip
        if parse_heredoc(args[-1]) is not None:
            raise _Invalid(f"{upper} cannot accept a heredoc as a destination")


def _pairs(node: Node) -> tuple[tuple[str, str | None], ...]:
    if node.name == "arg":
        return tuple((n, v if has else None) for n, has, v in (a.partition("=") for a in node.args))
    if not node.args:
        raise _Invalid(f"{node.name.upper()} requires at least one argument")
    triples = node.args
    for key in triples[0::3]:
        if not key:
            raise _Invalid(f"{node.name.upper()} names can not be blank")
    return tuple(zip(triples[0::3], triples[1::3], strict=True))


def _health(node: Node, flags: tuple[Flag, ...]) -> HealthConfig:
    kind = node.args[0].upper()
    cmd = node.args[1:]
    if kind == "NONE":
        if cmd:
            raise _Invalid("HEALTHCHECK NONE takes no arguments")
        return HealthConfig(("NONE",))
    if kind != "CMD":
        raise _Invalid(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    if not cmd:
        raise _Invalid("Missing command after HEALTHCHECK CMD")
    test = ("CMD", *cmd) if node.json else ("CMD-SHELL", *cmd)
    times: dict[str, int] = {}
    retries = 0
    for f in flags:
        if f.name == "retries":
            if not re.fullmatch(r"[+-]?[0-9]+", f.value):
                raise _Invalid(f'strconv.ParseInt: parsing "{f.value}": invalid syntax')
            retries = int(f.value)
            if retries < 0:
                raise _Invalid(f"--retries cannot be negative ({retries})")
            continue
        value = parse_duration(f.value)
        if 0 < value < 1_000_000 or value < 0:
            raise _Invalid(f'Interval "{f.name}" cannot be less than 1ms')
        times[f.name.replace("-", "_")] = value
    return HealthConfig(test, retries=retries, **times)


def _make(
    node: Node,
    flags: tuple[Flag, ...],
    *,
    pairs: tuple[tuple[str, str | None], ...] = (),
    trigger: Instruction | None = None,
    health: HealthConfig | None = None,
) -> Instruction:
    return Instruction(node.name, node.args, flags, node.heredocs, node.json, node.start_line,
                       node.end_line, node.original, pairs, trigger, health)  # fmt: skip


def _unchecked(node: Node) -> Instruction:
    """An ONBUILD trigger: Docker checks it only when a child image builds."""
    flags = tuple(Flag(*f.removeprefix("--").partition("=")[::2]) for f in node.flags)
    return _make(node, flags)


def _onbuild(node: Node) -> Instruction:
    flags = parse_flags("onbuild", node.flags)
    if node.trigger is None:
        raise _Invalid("ONBUILD requires at least one argument")
    word = node.trigger.name.upper()
    if word == "ONBUILD":
        raise _Invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if word in ("MAINTAINER", "FROM"):
        raise _Invalid(f"{word} isn't allowed as an ONBUILD trigger")
    return _make(node, flags, trigger=_unchecked(node.trigger))


def _instruction(node: Node) -> Instruction:
    """``node`` checked as Docker checks it before building; raises _Invalid or FlagError."""
    name = node.name
    if name not in INSTRUCTIONS:
        raise _Invalid(f"unknown instruction: {node.keyword}")
    if name == "onbuild":
        return _onbuild(node)
    if name == "healthcheck" and len(node.args) > 0 and node.args[0].upper() == "NONE":
        flags: tuple[Flag, ...] = ()  # Docker ignores flags on HEALTHCHECK NONE
    else:
        flags = parse_flags(name, node.flags)
    _count(name, node.args)
    if name == "shell" and not node.json:
        raise _Invalid("SHELL requires the arguments to be in JSON form")
    if name == "volume" and any(not a.strip() for a in node.args):
        raise _Invalid("VOLUME specified can not be an empty string")
    if name == "healthcheck":
        return _make(node, flags, health=_health(node, flags))
    if name in ("env", "label", "arg"):
        return _make(node, flags, pairs=_pairs(node))
    return _make(node, flags)


def _stage(index: int, inst: Instruction) -> Stage:
    args = inst.args
    stage_name = ""
    if len(args) == 3 and args[1].lower() == "as":
        stage_name = args[2].lower()
        if not _STAGE_NAME.match(stage_name):
            raise _Invalid(f'invalid name for build stage: "{args[2]}", name can\'t start '
                           "with a number or contain symbols")  # fmt: skip
    elif len(args) != 1:
        raise _Invalid("FROM requires either one or three arguments")
    return Stage(index, args[0], stage_name, inst.flag("platform"), (), inst.start_line,
                 inst.original.strip())  # fmt: skip


def parse_dockerfile(text: str, filename: str = "Dockerfile") -> Dockerfile:
    """Parse and check Dockerfile ``text`` into stages.

    Raises InvalidArgument as ``Dockerfile:LINE: message`` (``filename`` names the file):
    any syntax error of ``parse_nodes``, an unknown instruction, a flag the instruction does
    not take, a wrong argument count, a bad or repeated stage name, an instruction other
    than ``ARG`` before the first ``FROM``, or no ``FROM`` at all.
    """
    parsed = parse_nodes(text, filename)
    meta: list[Instruction] = []
    stages: list[Stage] = []
    bodies: list[list[Instruction]] = []
    for node in parsed.nodes:
        try:
            inst = _instruction(node)
            if inst.name == "from":
                stage = _stage(len(stages), inst)
                if stage.name and any(s.name == stage.name for s in stages):
                    raise _Invalid(f'duplicate stage name "{stage.name}"')
                stages.append(stage)
                bodies.append([])
            elif not stages:
                if inst.name != "arg":
                    raise _Invalid("no build stage in current context")
                meta.append(inst)
            else:
                bodies[-1].append(inst)
        except (_Invalid, FlagError) as exc:
            raise errors.InvalidArgument(f"{filename}:{node.start_line}: {exc}") from exc
    if not stages:
        raise errors.InvalidArgument(f"{filename}: no FROM instruction: nothing to build")
    done = tuple(
        Stage(s.index, s.base, s.name, s.platform, tuple(body), s.start_line, s.original)
        for s, body in zip(stages, bodies, strict=True)
    )
    return Dockerfile(done, tuple(meta), parsed.escape_token, parsed.directives, parsed.warnings)
