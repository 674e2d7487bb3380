"""``.dockerignore``: reading the file and deciding which context paths it excludes.

Reading (``read_ignore_file``): lines starting with ``#`` are comments, blank lines are
skipped, surrounding white space is trimmed, ``!`` marks an exception, each pattern is
cleaned (``./a//b/`` is ``a/b``) and a leading ``/`` dropped, as Docker's ``ignorefile``.

Matching (``PatternMatcher``) is Docker's ``patternmatcher``: patterns apply in order, a
later one overriding an earlier one, exceptions (``!``) re-including; ``**`` matches any
number of directories, ``*`` and ``?`` never cross ``/``; a path is also excluded when one of
its parent directories is (``MatchesOrParentMatches``). ``matches_using_parent_results`` is
the fast form for a tree walk: pass each directory's ``MatchInfo`` to its children.

Pure functions over the text and paths the caller passes. Imports only the standard
library, ``dockyard.errors`` and ``build.ignore_glob``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dockyard import errors
from dockyard.build.ignore_glob import BadPattern, clean, parent, validate_pattern
from dockyard.build.shell import GO_SPACE

__all__ = [
    "MatchInfo",
    "Pattern",
    "PatternMatcher",
    "compile_pattern",
    "matches",
    "matches_or_parent_matches",
    "read_ignore_file",
]

_SPACE_CHARS = "".join(sorted(GO_SPACE))
_REGEX_ESCAPED = frozenset(".+()|{}$")


def read_ignore_file(content: str | None) -> list[str]:
    """The patterns of a ``.dockerignore`` file's text (None, as for no file, gives none)."""
    if content is None:
        return []
    content = content.removeprefix("\ufeff")
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    patterns: list[str] = []
    for line in lines:
        line = line.removesuffix("\r")
        if line.startswith("#"):
            continue
        pattern = line.strip(_SPACE_CHARS)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(_SPACE_CHARS)
        if pattern:
            pattern = clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


def compile_pattern(pattern: str, sep: str = "/") -> tuple[str, str]:
    """How a cleaned pattern is matched: ``(kind, regexp)``, kind being ``exact``, ``prefix``
    (``dir/**``), ``suffix`` (``**/name``) or ``regexp`` (then ``regexp`` in Go syntax).

    ``sep`` is the path separator the regexp is written for (``\\`` on Windows).
    """
    esc_sep = "\\\\" if sep == "\\" else sep
    out = ["^"]
    kind = "exact"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        first = i == 0
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == sep:
                    i += 1
                if i >= n:
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        out.append(".*")
                        kind = "regexp"
                else:
                    out.append("(.*" + esc_sep + ")?")
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                out.append("[^" + esc_sep + "]*")
                kind = "regexp"
        elif ch == "?":
            out.append("[^" + esc_sep + "]")
            kind = "regexp"
        elif ch in _REGEX_ESCAPED:
            out.append("\\" + ch)
        elif ch == "\\":
            if sep == "\\":
                out.append(esc_sep)
                continue
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
                kind = "regexp"
            else:
                out.append("\\")
        elif ch in "[]":
            out.append(ch)
            kind = "regexp"
        else:
            out.append(ch)
    return kind, ("".join(out) + "$" if kind == "regexp" else "")


@dataclass(slots=True)
class Pattern:
    """One cleaned pattern; ``exclusion`` for a ``!`` exception."""

    cleaned: str
    exclusion: bool
    dirs: list[str]
    kind: str = ""
    regexp: str = ""
    _compiled: re.Pattern[str] | None = field(default=None, repr=False)
    _bad: bool = field(default=False, repr=False)

    def match(self, path: str) -> bool:
        """Whether ``path`` (slash separated) matches; raises BadPattern."""
        if not self.kind:
            self.kind, self.regexp = compile_pattern(self.cleaned)
            if self.kind == "regexp":
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        # Go's ``$`` is the end of text; Python's would also allow a "\n".
                        self._compiled = re.compile(self.regexp[:-1] + r"\Z")
                except re.error:
                    self._bad = True
        if self._bad:
            raise BadPattern(self.cleaned)
        if self.kind == "exact":
            return path == self.cleaned
        if self.kind == "prefix":
            return path.startswith(self.cleaned[:-2])
        if self.kind == "suffix":
            suffix = self.cleaned[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self._compiled is not None
        return self._compiled.match(path) is not None


@dataclass(slots=True)
class MatchInfo:
    """Per-pattern results for a directory, handed to its children's matching."""

    parent_matched: list[bool] = field(default_factory=list)


class PatternMatcher:
    """Docker's ordered include/exclude matcher over ``.dockerignore`` patterns."""

    def __init__(self, patterns: Iterable[str]) -> None:
        """Raises InvalidArgument for a lone ``!`` and BadPattern for a malformed pattern."""
        self.patterns: list[Pattern] = []
        self.exclusions = False
        for raw in patterns:
            p = raw.strip(_SPACE_CHARS)
            if not p:
                continue
            p = clean(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise errors.InvalidArgument('illegal exclusion pattern: "!"')
                p = p[1:]
                self.exclusions = True
            validate_pattern(p)
            self.patterns.append(Pattern(p, exclusion, p.split("/")))

    def matches_or_parent_matches(self, path: str) -> bool:
        """Whether ``path`` or one of its parent directories is excluded; raises BadPattern."""
        matched = False
        parent_dirs = _parent_dirs(path)
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path) or any(_quiet_match(pattern, d) for d in parent_dirs)
            if match:
                matched = not pattern.exclusion
        return matched

    def matches_exact(self, path: str) -> bool:
        """Whether ``path`` itself is excluded, parents not considered; raises BadPattern."""
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path):
                matched = not pattern.exclusion
        return matched

    def matches(self, path: str) -> bool:
        """Docker's deprecated ``Matches``: only one parent level, as deep as the pattern."""
        matched = False
        parent_path = parent(path)
        parent_dirs = parent_path.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path)
            if not match and parent_path != "." and len(pattern.dirs) <= len(parent_dirs):
                match = _quiet_match(pattern, "/".join(parent_dirs[: len(pattern.dirs)]))
            if match:
                matched = not pattern.exclusion
        return matched

    def matches_using_parent_result(self, path: str, parent_matched: bool) -> bool:
        """Docker's deprecated form taking one verdict for the parent directory."""
        matched = parent_matched
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path):
                matched = not pattern.exclusion
        return matched

    def matches_using_parent_results(
        self, path: str, parent_info: MatchInfo | None = None
    ) -> tuple[bool, MatchInfo]:
        """``(excluded?, info for path's children)`` given the parent directory's info.

        Without ``parent_info`` the parents are examined as ``matches_or_parent_matches``
        does. Raises BadPattern, and InvalidArgument for info from another matcher.
        """
        given = parent_info.parent_matched if parent_info is not None else []
        if given and len(given) != len(self.patterns):
            raise errors.InvalidArgument("wrong number of values in parentMatched")
        info = MatchInfo([False] * len(self.patterns))
        matched = False
        for i, pattern in enumerate(self.patterns):
            match = given[i] if given else False
            if not match:
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path)
                if not match and not given:
                    match = any(_quiet_match(pattern, d) for d in _parent_dirs(path))
            info.parent_matched[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, info


def _parent_dirs(path: str) -> list[str]:
    """``a``, ``a/b`` for ``a/b/c``; nothing for a top-level path."""
    parent_path = parent(path)
    if parent_path == ".":
        return []
    parts = parent_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _quiet_match(pattern: Pattern, path: str) -> bool:
    try:
        return pattern.match(path)
    except BadPattern:
        return False


def _prepare(path: str, patterns: Sequence[str]) -> tuple[PatternMatcher, str] | None:
    matcher = PatternMatcher(patterns)
    path = clean(path)
    return None if path == "." else (matcher, path)


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Docker's package-level ``Matches`` (one parent level); raises BadPattern."""
    prepared = _prepare(path, patterns)
    return prepared is not None and prepared[0].matches(prepared[1])


def matches_or_parent_matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``patterns`` exclude ``path`` or a parent of it; raises BadPattern."""
    prepared = _prepare(path, patterns)
    return prepared is not None and prepared[0].matches_or_parent_matches(prepared[1])
