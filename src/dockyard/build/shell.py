"""Docker's shell-like word processing: variable expansion, quotes, escapes and word splitting.

This is the small lexer a Dockerfile's arguments go through (``COPY $SRC /app``, ``ENV
PATH=$PATH:/x``, ``FROM ${IMAGE:-alpine}``), with the same rules as BuildKit's: ``$V`` and
``${V}``, the modifiers ``${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?e} ${V?e}``, the pattern forms
``${V#p} ${V##p} ${V%p} ${V%%p} ${V/p/r} ${V//p/r}``, single quotes literal, double quotes
expanding, the escape token (``\\`` or a backtick) escaping one character, and positional or
special parameters (``$1``, ``$@``) expanding to nothing. It is not a shell: no command
substitution, no globbing.

``EXPANDED_INSTRUCTIONS`` says which instructions Docker expands at all (``RUN``, ``CMD`` and
``ENTRYPOINT`` are left to the container's shell).

Pure functions over values. Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard import errors

__all__ = [
    "EXPANDED_INSTRUCTIONS",
    "GO_SPACE",
    "ShellLex",
    "WordResult",
    "expand_word",
    "expands_variables",
    "split_words",
]

#: What Go's ``unicode.IsSpace`` calls white space.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

#: Instructions whose arguments Docker runs through variable expansion (ONBUILD is stored raw;
#: RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and MAINTAINER are not expanded).
EXPANDED_INSTRUCTIONS = frozenset(
    {
        "add",
        "arg",
        "copy",
        "env",
        "expose",
        "from",
        "label",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    }
)

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_HEREDOC_SPACE = frozenset(" \t\r")
_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def expands_variables(instruction: str) -> bool:
    """Whether Docker expands ``$VARS`` in the arguments of ``instruction`` (any case)."""
    return instruction.lower() in EXPANDED_INSTRUCTIONS


@dataclass(slots=True)
class WordResult:
    """What processing one word gave: the expanded text, its split words, and the names used."""

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _Failure(Exception):
    """A lexing error, turned into InvalidArgument naming the whole word at the top."""


class _Words:
    """Accumulates split words: unquoted white space separates them, quoted text never does."""

    __slots__ = ("buf", "in_word", "words")

    def __init__(self) -> None:
        self.buf = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in GO_SPACE:
            if self.in_word and self.buf:
                self.words.append(self.buf)
                self.buf = ""
                self.in_word = False
        else:
            self.buf += ch
            self.in_word = True

    def add_raw(self, text: str) -> None:
        self.buf += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.buf:
            self.words.append(self.buf)
            self.buf = ""
        return self.words


@dataclass(slots=True)
class ShellLex:
    """A configured lexer. ``escape`` is the Dockerfile's escape token.

    ``raw_quotes`` keeps quote characters in the output, ``raw_escapes`` keeps escape tokens,
    ``skip_unset`` leaves references to unset variables as written (``$X``, ``${X:-y}``) and
    ``skip_quotes`` treats quotes as ordinary characters (heredoc bodies).
    """

    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_unset: bool = False
    skip_quotes: bool = False

    def process(self, word: str, env: Mapping[str, str]) -> WordResult:
        """Expand ``word`` with ``env``; raises InvalidArgument on a syntax error."""
        run = _Run(self, word, env)
        try:
            text, words = run.until("", self.raw_escapes)
        except _Failure as exc:
            raise errors.InvalidArgument(f"failed to process {_quote(word)}: {exc}") from exc
        return WordResult(text, words, run.matched, run.unmatched)

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """``word`` with its variables expanded and quotes removed; raises InvalidArgument."""
        return self.process(word, env).result

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """``word`` expanded then split on unquoted white space; raises InvalidArgument."""
        return self.process(word, env).words


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Docker's expansion of one instruction argument; raises InvalidArgument."""
    return ShellLex(escape).process_word(word, env)


def split_words(word: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Docker's expansion and word splitting of an argument list; raises InvalidArgument."""
    return ShellLex(escape).process_words(word, env)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Run:
    """One pass over one word (the Go implementation's ``shellWord``)."""

    def __init__(self, lex: ShellLex, word: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.s = word
        self.i = 0
        self.env = env
        self.raw_escapes = lex.raw_escapes
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        self.i += 1
        return ch

    def getenv(self, name: str) -> tuple[str, bool]:
        value = self.env.get(name)
        if value is None:
            self.unmatched.add(name)
            return "", False
        self.matched.add(name)
        return value, True

    def until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to ``stop`` (consumed) or the end when ``stop`` is empty."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._until(stop)
        finally:
            self.raw_escapes = saved

    def _until(self, stop: str) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        s, esc, quotes = self.s, self.lex.escape, not self.lex.skip_quotes
        while self.i < len(s):
            ch = s[self.i]
            if stop and ch == stop:
                self.i += 1
                return "".join(out), words.finish()
            if ch == "$":
                text = self.dollar()
                out.append(text)
                for c in text:
                    words.add_char(c)
                continue
            if ch == "<":
                text = self.possible_heredoc()
            elif quotes and ch == "'":
                text = self.single_quote()
            elif quotes and ch == '"':
                text = self.double_quote()
            else:
                self.i += 1
                if ch == esc:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        out.append(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
                continue
            out.append(text)
            words.add_raw(text)
        if stop:
            raise _Failure(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.finish()

    def single_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        end = self.s.find("'", self.i)
        if end < 0:
            raise _Failure("unexpected end of statement while looking for matching single-quote")
        out.append(self.s[self.i : end])
        self.i = end + 1
        if self.lex.raw_quotes:
            out.append("'")
        return "".join(out)

    def double_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        esc = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise _Failure(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.i += 1
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.i += 1
            if ch == esc:
                if self.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", esc):
                    ch = self.next()
            out.append(ch)

    def possible_heredoc(self) -> str:
        """``<<`` keeps the blanks after it in its word, so ``<< EOF`` stays one word."""
        self.i += 1
        if self.peek() != "<":
            return "<"
        self.i += 1
        start = self.i
        if self.s.startswith("-", start) and self.s[start + 1 : start + 2] in _HEREDOC_SPACE:
            self.i += 1  # "<<- EOF": the chomp dash, then the blanks
        while self.peek() and self.peek() in _HEREDOC_SPACE:
            self.i += 1
        return "<<" + self.s[start : self.i]

    def name(self) -> str:
        s, start = self.s, self.i
        if start >= len(s):
            return ""
        ch = s[start]
        if ch.isdecimal():
            while self.i < len(s) and s[self.i].isdecimal():
                self.i += 1
            return s[start : self.i]
        if ch in _SPECIAL_PARAMS:
            self.i += 1
            return ch
        while self.i < len(s) and (
            s[self.i].isalpha() or s[self.i].isdecimal() or s[self.i] == "_"
        ):
            self.i += 1
        return s[start : self.i]

    def dollar(self) -> str:
        self.i += 1
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.getenv(name)
            if not found and self.lex.skip_unset:
                return "$" + name
            return value
        self.i += 1
        ch = self.peek()
        if not ch:
            raise _Failure("syntax error: missing '}'")
        if ch in "{}:":
            raise _Failure("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value, found = self.getenv(name)
            if not found and self.lex.skip_unset:
                return "${" + name + "}"
            return value
        if ch == "/":
            return self.replace(name)
        if not ch:
            raise _Failure("syntax error: missing '}'")
        modifier, null_is_unset = ch, False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            modifier += ch
        elif ch not in "+-?#%":
            raise _Failure(f"unsupported modifier ({ch}) in substitution")
        pattern_op = ch in "#%"
        if null_is_unset and pattern_op:
            raise _Failure(f"unsupported modifier ({modifier}) in substitution")
        word = self.nested("}", pattern_op, "syntax error: missing '}'")
        value, found = self.getenv(name)
        if self.lex.skip_unset and not found:
            return "${" + name + modifier + word + "}"
        empty = not found or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if not found:
                raise _Failure(f"{name}: {word or 'is not allowed to be unset'}")
            if empty:
                raise _Failure(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if ch in "#%":
            greedy = word.startswith(ch)
            if greedy:
                word = word[1:]
            return (
                _trim_suffix(word, value, greedy)
                if ch == "%"
                else _trim_prefix(word, value, greedy)
            )
        raise _Failure(f"unsupported modifier ({modifier}) in substitution")

    def nested(self, stop: str, raw_escapes: bool, at_end: str) -> str:
        try:
            text, _ = self.until(stop, raw_escapes)
        except _Failure:
            if not self.peek():
                raise _Failure(at_end) from None
            raise
        return text

    def replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.i += 1
        pattern = self.nested("/", True, "syntax error: missing '/' in ${}")
        replacement = self.nested("}", True, "syntax error: missing '}'")
        value, found = self.getenv(name)
        if self.lex.skip_unset and not found:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        if replace_all:
            return regex.sub(lambda _m: replacement, value)
        return regex.sub(lambda _m: replacement, value, count=1)


def _pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A ``${V#pattern}`` shell pattern (``*``, ``?``, ``\\`` escapes; no brackets) as a regex."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                msg = f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'"
                raise _Failure(msg)
            out.append("\\" + nxt)
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    m = _pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[m.end() :] if m else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern keeping each escape before the character it escapes (``a\\*c`` -> ``c\\*a``)."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            tokens.append(pattern[i : i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]
