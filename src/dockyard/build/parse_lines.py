"""How one logical Dockerfile line splits into instruction, flags and arguments.

Each instruction has its own argument grammar, as in Docker's parser:

- exec or shell form (``RUN``, ``CMD``, ``ENTRYPOINT``, ``SHELL``): a JSON array of strings,
  or else the rest of the line as one string;
- ``COPY``, ``ADD``, ``VOLUME``: a JSON array, or else white-space separated words;
- ``ENV`` and ``LABEL``: ``k=v k2="v 2"`` pairs (quotes kept raw, expanded later), or the
  legacy ``ENV key the value`` form;
- ``ARG``: ``name`` or ``name=value`` words; ``HEALTHCHECK``: a type then exec/shell form;
- ``FROM``, ``EXPOSE``: white-space separated words; the rest: the line as one string.

Flags (``--from=build``) come first and stop at the first word not starting with ``--`` or
at a bare ``--``. Errors are raised as ``LineError`` for the parser to locate.

Pure functions. Imports only the standard library and ``build.shell``.
"""

from __future__ import annotations

import json
import re

from dockyard.build.shell import GO_SPACE

__all__ = [
    "LineError",
    "parse_arguments",
    "split_command",
]

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_SPACE_CHARS = "".join(sorted(GO_SPACE))
_NOT_STRINGS = "when using JSON array syntax, arrays must be comprised of strings only"


class LineError(ValueError):
    """A malformed line; the parser adds the file name and line number."""


def go_trim(text: str) -> str:
    """``strings.TrimSpace``: strip what Go calls white space from both ends."""
    return text.strip(_SPACE_CHARS)


def split_command(line: str) -> tuple[str, list[str], str]:
    """``(instruction as written, flags, rest)`` of one logical line."""
    parts = _WHITESPACE.split(go_trim(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flags = _extract_flags(parts[1])
    return parts[0], flags, go_trim(rest)


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading ``--flag[=value]`` words (quotes and backslashes processed) and the rest."""
    if not line.lstrip(_SPACE_CHARS).startswith("--"):
        return line, []  # the common case: no flags
    flags: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and line[pos] in GO_SPACE:
            pos += 1
        if pos >= n:
            return "", flags
        if not line.startswith("--", pos):
            return line[pos:], flags
        word: list[str] = []
        quote = ""
        blank_ok = False
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
            elif ch in GO_SPACE:
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], flags
        if blank_ok or text:
            flags.append(text)


def parse_words(rest: str, escape: str) -> list[str]:
    """White-space separated words with quotes and escapes kept as written (ENV, LABEL, ARG)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    blank_ok = False
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if pos + 1 == n:
                    break  # an escape at the very end is dropped
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        elif ch in GO_SPACE:
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok = [], False
        else:
            if ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == escape:
                if pos + 1 == n:
                    break
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        pos += 1
    if blank_ok or word:
        words.append("".join(word))
    return words


def _name_values(rest: str, key: str, escape: str) -> list[str]:
    """``ENV``/``LABEL`` arguments as ``key, value, separator`` triples."""
    words = parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise LineError(f"{key} must have two arguments")
        return [parts[0], parts[1], ""]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise LineError(
                f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value'
            )
        name, _, value = word.partition("=")
        out += [name, value, "="]
    return out


def _json_array(rest: str) -> list[str] | None:
    """The strings of a JSON array at the start of ``rest``, or None if it is not one."""
    rest = rest.lstrip(_SPACE_CHARS)
    if not rest.startswith("["):
        return None
    try:
        value, _ = json.JSONDecoder(parse_constant=_reject).raw_decode(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise LineError(_NOT_STRINGS)
    return value


def _reject(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _maybe_json(rest: str) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    array = _json_array(rest)
    if array is not None:
        return array, True
    return [rest], False


def _maybe_json_to_list(rest: str) -> tuple[list[str], bool]:
    array = _json_array(rest)
    if array is not None:
        return array, True
    return (_WHITESPACE.split(rest) if rest else []), False


def _health(rest: str) -> tuple[list[str], bool]:
    sep = 0
    while sep < len(rest) and rest[sep] not in GO_SPACE:
        sep += 1
    if sep == 0:
        return [], False
    cmd, is_json = _maybe_json(rest[sep:].lstrip(_SPACE_CHARS))
    return [rest[:sep], *cmd], is_json


def parse_arguments(name: str, rest: str, escape: str) -> tuple[list[str], bool]:
    """``(arguments, exec form?)`` of instruction ``name`` (lower case) given the rest of its line.

    ONBUILD is the parser's business (its argument is a whole instruction). Raises LineError.
    """
    if name in ("run", "cmd", "entrypoint", "shell"):
        return _maybe_json(rest)
    if name in ("copy", "add", "volume"):
        return _maybe_json_to_list(rest)
    if name in ("env", "label"):
        return _name_values(rest, name.upper(), escape), False
    if name == "arg":
        return parse_words(rest, escape), False
    if name in ("from", "expose"):
        return (_WHITESPACE.split(rest) if rest else []), False
    if name == "healthcheck":
        return _health(rest)
    if name in ("maintainer", "stopsignal", "user", "workdir"):
        return ([rest] if rest else []), False
    return [""], False  # an unknown instruction: kept for the caller to reject
