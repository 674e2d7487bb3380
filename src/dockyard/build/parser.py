"""The Dockerfile parser: text in, a flat list of located instruction nodes out.

What it handles, as Docker's own parser does:

- parser directives (``# syntax=``, ``# escape=``, ``# check=``), only before anything else
  (a blank line, a comment or an instruction ends them; each may appear once);
- comments (a line whose first non-blank character is ``#``), also inside continuations;
- line continuations with the escape token (``\\`` or a backtick) as the last non-blank
  character, empty continuation lines (skipped, with a warning);
- flags, exec vs shell form and per-instruction argument grammar (``parse_lines.py``);
- heredoc bodies after ``RUN``/``COPY``/``ADD`` lines (``heredoc.py``), ``ONBUILD`` nesting;
- start and end line of every instruction (1-based, end including continuations and bodies).

Instruction names are not checked here (``instructions.py`` does that): the node list is the
raw syntax, rendered by ``parse_dump.dump`` the way Docker's test files spell it.

Pure functions over the text the caller passes. Imports only the standard library,
``dockyard.errors`` and sibling modules of ``build/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from dockyard import errors
from dockyard.build.heredoc import Heredoc, heredocs_from_line
from dockyard.build.parse_lines import LineError, parse_arguments, split_command
from dockyard.build.shell import GO_SPACE

__all__ = ["Directive", "Node", "ParseResult", "ParseWarning", "parse_nodes"]

_DIRECTIVE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z"
)
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})
_SPACE_CHARS = "".join(sorted(GO_SPACE))


@dataclass(frozen=True, slots=True)
class Node:
    """One instruction as written: ``keyword`` keeps its case, ``args`` are raw strings.

    ``ENV``/``LABEL`` args are ``key, value, separator`` triples (separator ``"="`` or ``""``
    for the legacy ``ENV k v`` form); ``ONBUILD`` has no args but a ``trigger`` node.
    """

    keyword: str
    args: tuple[str, ...]
    flags: tuple[str, ...] = ()
    json: bool = False
    original: str = ""
    start_line: int = 0
    end_line: int = 0
    heredocs: tuple[Heredoc, ...] = ()
    trigger: Node | None = None

    @property
    def name(self) -> str:
        """The instruction in lower case (``run``)."""
        return self.keyword.lower()

    def can_contain_heredoc(self) -> bool:
        node = self.trigger if self.name == "onbuild" and self.trigger is not None else self
        return node.name in _HEREDOC_INSTRUCTIONS and not node.json


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive (``# escape=`` at ``line``); ``name`` is lower case."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something Docker accepts but warns about, with the line it points at."""

    message: str
    line: int


@dataclass(frozen=True, slots=True)
class ParseResult:
    """All nodes of a Dockerfile in order, with its directives and escape token."""

    nodes: tuple[Node, ...]
    escape_token: str = "\\"
    directives: tuple[Directive, ...] = ()
    warnings: tuple[ParseWarning, ...] = field(default=())

    def directive(self, name: str) -> str | None:
        """The value of directive ``name`` (``syntax``, ``escape``, ``check``), if given."""
        for d in self.directives:
            if d.name == name:
                return d.value
        return None


class _State:
    """Directive bookkeeping while scanning: the escape token and whether directives ended."""

    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.directives: list[Directive] = []

    def directive(self, line: str, lineno: int) -> None:
        """Record ``line`` if it is a directive; raises LineError for a repeated or bad one."""
        if self.done:
            return
        m = _DIRECTIVE.match(line)
        name = m.group(1).lower() if m else ""
        if name not in _KNOWN_DIRECTIVES:
            self.done = True
            return
        assert m is not None
        if any(d.name == name for d in self.directives):
            raise LineError(f"only one {name} parser directive can be used")
        value = m.group(2)
        if name == "escape":
            if value not in ("\\", "`"):
                raise LineError(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
        self.directives.append(Directive(name, value, lineno))

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """``(line without its continuation token, whether the logical line ends here)``."""
        stripped = line.rstrip(" \t")
        esc = self.escape
        if stripped.endswith(esc) and (len(stripped) == 1 or stripped[-2] != esc):
            return stripped[:-1], False
        return line, True


def _split_lines(text: str) -> list[str]:
    """Lines with their endings; a last line without a newline counts."""
    lines = text.split("\n")
    last = lines.pop()
    out = [line + "\n" for line in lines]
    if last:
        out.append(last)
    return out


def _is_comment(line: str) -> bool:
    return line.lstrip(_SPACE_CHARS).startswith("#")


def _node_from_line(line: str, escape: str) -> Node:
    keyword, flags, rest = split_command(line)
    name = keyword.lower()
    if name == "onbuild":
        trigger = _node_from_line(rest, escape) if rest else None
        return Node(keyword, (), tuple(flags), False, line, trigger=trigger)
    args, is_json = parse_arguments(name, rest, escape)
    return Node(keyword, tuple(args), tuple(flags), is_json, line)


def _located(node: Node, start: int, end: int, heredocs: tuple[Heredoc, ...]) -> Node:
    return Node(node.keyword, node.args, node.flags, node.json, node.original, start, end,
                heredocs, node.trigger)  # fmt: skip


def _fail(filename: str, line: int, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(f"{filename}:{line}: {message}")


def parse_nodes(text: str, filename: str = "Dockerfile") -> ParseResult:
    """Parse Dockerfile ``text`` into located nodes (no check of instruction names).

    Raises InvalidArgument naming ``filename`` and the line: a bad or repeated directive,
    an ``ENV`` without a value, a JSON array of non-strings, an unterminated heredoc, or a
    file with no instructions at all.
    """
    state = _State()
    lines = _split_lines(text[1:] if text.startswith("\ufeff") else text)
    nodes: list[Node] = []
    warnings: list[ParseWarning] = []
    i, n, current = 0, len(lines), 0
    while i < n:
        token = lines[i].rstrip("\r\n").lstrip(_SPACE_CHARS)
        i += 1
        current += 1
        if not state.done:
            try:
                state.directive(token, current)
            except LineError as exc:
                raise _fail(filename, current, str(exc)) from exc
        if token.startswith("#"):
            continue
        start = current
        line, ended = state.trim_continuation(token)
        if ended and not line:
            continue
        parts = [line]
        empty_continuation = False
        while not ended and i < n:
            raw = lines[i]
            i += 1
            current += 1
            if _is_comment(raw):
                continue
            part = raw.rstrip("\r\n")
            if not part.lstrip(_SPACE_CHARS):
                empty_continuation = True
                continue
            part, ended = state.trim_continuation(part)
            parts.append(part)
        line = "".join(parts)
        if empty_continuation:
            warnings.append(ParseWarning(f"Empty continuation line found in: {line}", current))
        try:
            node = _node_from_line(line, state.escape)
        except LineError as exc:
            raise _fail(filename, start, str(exc)) from exc
        heredocs: list[Heredoc] = []
        if "<<" in line and node.can_contain_heredoc():
            try:
                found = heredocs_from_line(line)
            except errors.InvalidArgument as exc:
                raise _fail(filename, start, str(exc)) from exc
            for heredoc in found:
                body: list[str] = []
                terminated = False
                while i < n:
                    raw = lines[i]
                    i += 1
                    current += 1
                    candidate = raw.rstrip("\r\n")
                    if heredoc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == heredoc.name:
                        terminated = True
                        break
                    body.append(raw)
                if not terminated:
                    raise _fail(filename, start, f"unterminated heredoc {heredoc.name}")
                heredocs.append(replace(heredoc, content="".join(body)))
        nodes.append(_located(node, start, current, tuple(heredocs)))
    if not nodes:
        raise errors.InvalidArgument(f"{filename}: file with no instructions")
    return ParseResult(tuple(nodes), state.escape, tuple(state.directives), tuple(warnings))
