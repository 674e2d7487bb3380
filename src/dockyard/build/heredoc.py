"""Heredocs in Dockerfiles: recognising ``<<EOF`` words and what their delimiters mean.

``RUN``, ``COPY`` and ``ADD`` (also as an ``ONBUILD`` trigger) accept here-documents::

    COPY <<-"EOF" /etc/motd
    \tHello
    \tEOF

A heredoc word is ``[fd]<<[-]WORD``. The dash (*chomp*) lets the terminator line start with
tabs and strips leading tabs from the body when it is used (``chomp_content``); quoting any
part of the delimiter (``<<'EOF'``, ``<<"EOF"``, ``<<E"O"F``) means the body is taken
literally (``expand`` is false). Several heredocs may start on one line; their bodies follow
in order. The parser (``parser.py``) reads the bodies; this module only reads words.

Pure functions. Imports only the standard library, ``dockyard.errors`` and ``build.shell``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard import errors
from dockyard.build.shell import ShellLex

__all__ = ["Heredoc", "chomp_content", "heredocs_from_line", "parse_heredoc"]

_HEREDOC = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)
_NO_ENV: dict[str, str] = {}
# The first pass over a whole line keeps everything as written; only words matter.
_LINE_LEX = ShellLex("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
_WORD_LEX = ShellLex("\\", skip_unset=True)
_WORD_LEX_RAW = ShellLex("\\", raw_quotes=True, skip_unset=True)


@dataclass(frozen=True, slots=True)
class Heredoc:
    """One here-document: its delimiter ``name``, the body as written, and how to treat it."""

    name: str
    file_descriptor: int = 0
    expand: bool = True
    chomp: bool = False
    content: str = ""


def parse_heredoc(word: str) -> Heredoc | None:
    """The heredoc ``word`` starts (``<<EOF``, ``3<<-'EOF'``), or None if it is no heredoc.

    Raises InvalidArgument when the delimiter's quotes are unbalanced (``<<'EOF``).
    """
    m = _HEREDOC.match(word)
    if m is None or not m.group(3):
        return None
    rest = m.group(3)
    words = _WORD_LEX.process_words(rest, _NO_ENV)
    if len(words) != 1:
        return None
    raw = _WORD_LEX_RAW.process_words(rest, _NO_ENV)
    # Quotes that did their job vanish from the processed word but stay in the raw one.
    quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"') if len(raw) == 1 else -1
    fd = int(m.group(1)) if m.group(1) else 0
    return Heredoc(words[0], fd, expand=quotes == raw_quotes, chomp=m.group(2) == "-")


def heredocs_from_line(line: str) -> list[Heredoc]:
    """Every heredoc that starts on ``line``, in order; words inside quotes do not count.

    Raises InvalidArgument when a heredoc delimiter's quotes are unbalanced.
    """
    if "<<" not in line:
        return []
    try:
        words = _LINE_LEX.process_words(line, _NO_ENV)
    except errors.InvalidArgument:  # an unterminated quote elsewhere on the line: no heredocs
        return []
    found = []
    for word in words:
        heredoc = parse_heredoc(word)
        if heredoc is not None:
            found.append(heredoc)
    return found


def chomp_content(content: str) -> str:
    """The body of a ``<<-`` heredoc as used: leading tabs removed from every line."""
    return _LEADING_TABS.sub("", content)
