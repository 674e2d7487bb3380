"""The build context: a directory of files COPY and ADD may read, minus what ``.dockerignore``
excludes, and the checksums that make COPY steps cacheable.

``BuildContext(root, patterns)`` never lets a source leave ``root`` (``COPY ../x`` is
``x``); ``resolve(src)`` expands a source with wildcards (Go's ``filepath.Match`` per path
component, as Docker) into the included paths; ``checksum(paths)`` hashes names, types,
modes, owners, sizes, link targets and contents of everything below them, so a changed file,
mode or owner changes the key, and so does a ``.dockerignore`` change that adds or removes a
file. A context may also be empty (a Dockerfile on stdin).

Imports only the standard library, ``dockyard.errors`` and sibling ``build/`` modules.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path

from dockyard import errors
from dockyard.build.dockerignore import PatternMatcher
from dockyard.build.ignore_glob import filepath_match

__all__ = ["BuildContext", "clean_source"]

_CHUNK = 1 << 20
_WILDCARDS = frozenset("*?[")


def clean_source(src: str) -> str:
    """A source path relative to the context root, cleaned, never above it (``""`` = root)."""
    cleaned = posixpath.normpath("/" + src.replace("\\", "/")).lstrip("/")
    return "" if cleaned == "." else cleaned


class BuildContext:
    """The files of a build, by path relative to ``root``; ``root`` None is an empty context."""

    def __init__(self, root: Path | None, patterns: list[str] | None = None) -> None:
        self.root = root
        self.patterns = list(patterns or [])
        self._matcher = PatternMatcher(self.patterns) if self.patterns else None
        self._has_exceptions = any(p.startswith("!") for p in self.patterns)
        self._file_sums: dict[tuple[str, int, int, int], str] = {}

    def excluded(self, rel: str) -> bool:
        """Whether ``.dockerignore`` keeps ``rel`` out of the context."""
        if not rel or self._matcher is None:
            return False
        return self._matcher.matches_or_parent_matches(rel)

    def skips(self, rel: str) -> bool:
        """Whether a copy of a directory leaves ``rel`` out (a directory that an exception
        may re-include below is kept)."""
        if not self.excluded(rel):
            return False
        return not (self._has_exceptions and self.root is not None and (self.root / rel).is_dir())

    def path(self, rel: str) -> Path:
        """The host path of context path ``rel``; raises NotFound for an empty context."""
        if self.root is None:
            raise errors.NotFound(f'"/{rel}": not found (the build has no context)')
        return self.root / rel if rel else self.root

    def _lstat(self, rel: str) -> os.stat_result | None:
        if self.root is None or self.excluded(rel):
            return None
        try:
            return os.lstat(self.path(rel))
        except OSError:
            return None

    def resolve(self, src: str) -> list[str]:
        """The context paths ``src`` names (wildcards expanded), sorted.

        Raises NotFound (``"/src": not found``) when nothing included matches.
        """
        rel = clean_source(src)
        if not any(c in _WILDCARDS for c in rel):
            if self._lstat(rel) is None and not (rel == "" and self.root is not None):
                raise errors.NotFound(f'failed to compute cache key: "/{rel}": not found')
            return [rel]
        found = [""]
        for part in rel.split("/"):
            nxt: list[str] = []
            for base in found:
                if not any(c in _WILDCARDS for c in part):
                    nxt.append(posixpath.join(base, part) if base else part)
                    continue
                try:
                    names = sorted(os.listdir(self.path(base)))
                except OSError:
                    continue
                nxt.extend(posixpath.join(base, n) if base else n
                           for n in names if filepath_match(part, n))  # fmt: skip
            found = nxt
        matched = [p for p in found if self._lstat(p) is not None]
        if not matched:
            raise errors.NotFound(f'failed to compute cache key: "/{rel}": not found')
        return sorted(matched)

    def walk(self, rel: str) -> Iterator[tuple[str, os.stat_result]]:
        """``rel`` and, for a directory, everything included below it, parents first."""
        st = self._lstat(rel) if rel else (os.lstat(self.path("")) if self.root else None)
        if st is None:
            return
        yield rel, st
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk_dir(rel)

    def _walk_dir(self, rel: str) -> Iterator[tuple[str, os.stat_result]]:
        try:
            entries = sorted(os.scandir(self.path(rel)), key=lambda e: e.name)
        except OSError as exc:
            raise errors.InvalidArgument(f"read context directory /{rel}: {exc.strerror}") from exc
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if self.excluded(child):
                if stat.S_ISDIR(st.st_mode) and self._has_exceptions:
                    yield from self._walk_dir(child)  # an exception may re-include below
                continue
            yield child, st
            if stat.S_ISDIR(st.st_mode):
                yield from self._walk_dir(child)

    def checksum(self, sources: list[str]) -> str:
        """A digest of everything ``sources`` (resolved paths) would copy, metadata included."""
        h = hashlib.sha256()
        for src in sources:
            h.update(f"\0src\0{src}\0".encode())
            for rel, st in self.walk(src):
                h.update(f"{rel}\0{st.st_mode:o}\0{st.st_uid}\0{st.st_gid}\0".encode())
                if stat.S_ISREG(st.st_mode):
                    h.update(self._file_sum(rel, st).encode())
                elif stat.S_ISLNK(st.st_mode):
                    h.update(os.readlink(self.path(rel)).encode("utf-8", "surrogateescape"))
                h.update(b"\n")
        return "sha256:" + h.hexdigest()

    def _file_sum(self, rel: str, st: os.stat_result) -> str:
        key = (rel, st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._file_sums.get(key)
        if cached is not None:
            return cached
        h = hashlib.sha256()
        with open(self.path(rel), "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        self._file_sums[key] = h.hexdigest()
        return self._file_sums[key]
