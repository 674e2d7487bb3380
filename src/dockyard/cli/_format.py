"""``--format``: the subset of Go templates Docker users write, and table rendering.

Supported: ``{{.Field}}``, ``{{.A.B}}``, ``{{json .}}``, ``{{json .Field}}``,
``{{index .Map "key"}}``, ``{{upper .X}}``, ``{{lower .X}}``, ``{{title .X}}``,
``{{join .List ", "}}``, ``{{printf "%s" .X}}``, ``{{println}}``; a leading ``table`` makes an
aligned table with a header row; ``\\t`` and ``\\n`` in the format are tab and newline.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dockyard import errors

__all__ = ["Template", "render_table"]

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}")


def _lookup(value: Any, path: str) -> Any:
    if path in (".", ""):
        return value
    for part in path.lstrip(".").split("."):
        if isinstance(value, Mapping):
            if part not in value:
                raise errors.InvalidArgument(
                    f'template: :1: can\'t evaluate field {part} in type {type(value).__name__}'
                )
            value = value[part]
        else:
            if not hasattr(value, part):
                raise errors.InvalidArgument(f"template: :1: can't evaluate field {part}")
            value = getattr(value, part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_text(v) for v in value) + "]"
    return str(value)


def _arg(token: str, data: Any) -> Any:
    if token.startswith('"') or token.startswith("'"):
        return token[1:-1]
    if token.startswith("."):
        return _lookup(data, token)
    return token


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


_FUNCS: dict[str, Callable[..., str]] = {
    "json": lambda v: json.dumps(_jsonable(v), separators=(",", ":"), default=str),
    "upper": lambda v: _text(v).upper(),
    "lower": lambda v: _text(v).lower(),
    "title": lambda v: _text(v).title(),
    "join": lambda v, sep: sep.join(_text(x) for x in (v or [])),
    "index": lambda v, *keys: _text(_index(v, keys)),
    "printf": lambda fmt, *args: fmt.replace("%v", "%s") % tuple(_text(a) for a in args),
    "println": lambda *args: " ".join(_text(a) for a in args) + "\n",
    "truncate": lambda v, n: _text(v)[: int(n)],
    "len": lambda v: str(len(v or ())),
}


def _index(value: Any, keys: Sequence[Any]) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else value[int(key)]
    return value


class Template:
    """A parsed format string; ``render(obj)`` gives one line (without newline)."""

    def __init__(self, fmt: str) -> None:
        fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")
        self.table = fmt.startswith("table")
        if self.table:
            fmt = fmt[len("table"):].lstrip(" ")
        self.fmt = fmt

    def render(self, data: Any) -> str:
        def action(m: re.Match[str]) -> str:
            try:
                tokens = shlex.split(m.group(1), posix=False)
            except ValueError as exc:
                raise errors.InvalidArgument(f"template parsing error: {exc}") from exc
            if not tokens:
                return ""
            head, args = tokens[0], tokens[1:]
            if head.startswith("."):
                return _text(_lookup(data, head))
            if head not in _FUNCS:
                raise errors.InvalidArgument(f'template: :1: function "{head}" not defined')
            return _FUNCS[head](*[_arg(a, data) for a in args])

        return _ACTION.sub(action, self.fmt)

    def header(self, headers: Mapping[str, str]) -> str:
        """The table header: each ``{{.Field}}`` replaced by its column title."""

        def title(m: re.Match[str]) -> str:
            tokens = m.group(1).split()
            field = next((t for t in tokens if t.startswith(".")), "")
            name = field.lstrip(".").split(".")[0]
            return headers.get(name, name.upper())

        return _ACTION.sub(title, self.fmt)


def render_table(rows: list[list[str]]) -> str:
    """Align tab-separated cells into columns three spaces apart, like Go's tabwriter."""
    if not rows:
        return ""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if i >= len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        parts = [cell.ljust(widths[i] + 3) for i, cell in enumerate(row[:-1])]
        parts.append(row[-1] if row else "")
        lines.append("".join(parts).rstrip())
    return "\n".join(lines)


def emit(fmt: str | None, items: list[Any], headers: Mapping[str, str], default: str) -> str:
    """Render *items* with a user format (or *default*, a ``table`` format)."""
    if fmt == "json":
        return "\n".join(Template("{{json .}}").render(i) for i in items)
    template = Template(fmt or default)
    if not template.table:
        return "\n".join(template.render(i) for i in items)
    rows = [template.header(headers).split("\t")]
    rows += [template.render(i).split("\t") for i in items]
    return render_table(rows)
