"""Go's path rules that ``.dockerignore`` matching rests on: ``filepath.Match`` and ``Clean``.

``filepath_match`` is Go's glob with its exact semantics on Linux: ``*`` (never crossing
``/``), ``?`` (one character, not ``/``), ``[a-z]``/``[^a-z]`` classes (which may match
``/``), ``\\`` escaping the next character, and ``BadPattern`` for a malformed pattern
(``[]a]``, ``[x-]``, a trailing ``\\``) whatever the name. Matching works chunk by chunk,
each star taking the leftmost place its chunk fits, as Go does.

``clean`` is Go's ``path.Clean`` (lexical: ``.`` and ``..`` resolved, slashes squeezed) and
``parent`` is ``filepath.Dir``.

Pure functions. Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from dockyard import errors

__all__ = ["BadPattern", "clean", "filepath_match", "parent", "validate_pattern"]


class BadPattern(errors.InvalidArgument):
    """A malformed glob pattern (Go's ``filepath.ErrBadPattern``)."""

    def __init__(self, pattern: str) -> None:
        super().__init__("syntax error in pattern")
        self.pattern = pattern


def clean(path: str) -> str:
    """Go's ``path.Clean``: the shortest lexically equivalent path (``""`` is ``"."``)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(comp)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def parent(path: str) -> str:
    """Go's ``filepath.Dir``: all but the last element, cleaned (``"a"`` gives ``"."``)."""
    return clean(path[: path.rfind("/") + 1])


@dataclass(frozen=True, slots=True)
class _Class:
    negated: bool
    ranges: tuple[tuple[str, str], ...]

    def matches(self, ch: str) -> bool:
        return any(lo <= ch <= hi for lo, hi in self.ranges) != self.negated


_ANY = "?"
# A token is a literal character (wrapped in a 1-tuple), ``_ANY`` (one non-slash) or a class.
_Token = tuple[str] | str | _Class
_Chunk = tuple[bool, tuple[_Token, ...]]


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One character of a ``[...]`` class starting at ``i``, Go's ``getEsc``."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise BadPattern(pattern)
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise BadPattern(pattern)
    if i + 1 >= len(pattern):
        raise BadPattern(pattern)
    return pattern[i], i + 1


@lru_cache(maxsize=512)
def _compile(pattern: str) -> tuple[_Chunk, ...]:
    """The pattern as chunks ``(preceded by a star, tokens)``; raises BadPattern."""
    segments: list[list[_Token]] = [[]]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            segments.append([])
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            continue
        if ch == "?":
            segments[-1].append(_ANY)
            i += 1
        elif ch == "[":
            token, i = _class(pattern, i + 1)
            segments[-1].append(token)
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise BadPattern(pattern)
            segments[-1].append((pattern[i + 1],))
            i += 2
        else:
            segments[-1].append((ch,))
            i += 1
    chunks: list[_Chunk] = []
    if segments[0] or len(segments) == 1:
        chunks.append((False, tuple(segments[0])))
    chunks.extend((True, tuple(seg)) for seg in segments[1:])
    return tuple(chunks)


def _class(pattern: str, i: int) -> tuple[_Class, int]:
    """The ``[...]`` class whose body starts at ``i``, and where the pattern continues."""
    negated = i < len(pattern) and pattern[i] == "^"
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges:
            return _Class(negated, tuple(ranges)), i + 1
        lo, i = _class_char(pattern, i)
        hi = lo
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        ranges.append((lo, hi))


def validate_pattern(pattern: str) -> None:
    """Raise BadPattern unless ``pattern`` is a well-formed glob."""
    _compile(pattern)


def _match_chunk(tokens: tuple[_Token, ...], name: str, pos: int) -> int:
    """Where the name continues after ``tokens`` matched at ``pos``, or -1."""
    for tok in tokens:
        if pos >= len(name):
            return -1
        ch = name[pos]
        if isinstance(tok, tuple):
            if ch != tok[0]:
                return -1
        elif isinstance(tok, _Class):
            if not tok.matches(ch):
                return -1
        elif ch == "/":
            return -1
        pos += 1
    return pos


def filepath_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match(pattern, name)`` on Linux; raises BadPattern."""
    chunks = _compile(pattern)
    pos = 0
    for index, (star, tokens) in enumerate(chunks):
        last = index == len(chunks) - 1
        if star and not tokens:
            return "/" not in name[pos:]
        t = _match_chunk(tokens, name, pos)
        if t >= 0 and (t == len(name) or not last):
            pos = t
            continue
        if star:
            found = False
            i = pos
            while i < len(name) and name[i] != "/":
                t = _match_chunk(tokens, name, i + 1)
                if t >= 0 and not (last and t < len(name)):
                    pos, found = t, True
                    break
                i += 1
            if found:
                continue
        return False
    return pos == len(name)
