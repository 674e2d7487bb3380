"""Render parsed Dockerfile nodes as Docker's parser test files spell them.

One line per instruction: ``(`` + lower-case instruction + optional flags as a Go-quoted list
+ each argument Go-quoted + ``)``, ``ONBUILD`` nesting its trigger::

    (from "alpine")
    (copy ["--from=build"] "/out" "/usr/bin/")
    (onbuild (run "echo hi"))

Used by the conformance tests and handy when debugging a parse. ``go_quote`` is Go's
``strconv.Quote``. Pure functions; imports only the standard library and ``build.parser``.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.build.parser import Node

__all__ = ["dump", "dump_node", "go_quote"]

_NAMED = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """``text`` as Go's ``strconv.Quote`` writes it (printable Unicode kept as is)."""
    out = ['"']
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif 0xD800 <= code <= 0xDFFF:
                out.append("\\ufffd")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def dump_node(node: Node) -> str:
    """One node without the surrounding parentheses: ``copy ["--from=a"] "x" "/y"``."""
    parts = [node.name]
    if node.flags:
        parts.append("[" + " ".join(go_quote(f) for f in node.flags) + "]")
    if node.trigger is not None:
        parts.append("(" + dump_node(node.trigger) + ")")
    parts.extend(go_quote(arg) for arg in node.args)
    return " ".join(parts)


def dump(nodes: Iterable[Node]) -> str:
    """All nodes, one parenthesised line each, with a final newline."""
    return "".join(f"({dump_node(node)})\n" for node in nodes)
