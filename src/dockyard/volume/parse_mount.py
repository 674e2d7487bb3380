"""``--mount``: Docker's long mount syntax, parsed into a :class:`MountSpec`.

    --mount type=bind,source=/host,target=/in[,readonly][,bind-propagation=rshared]
    --mount type=volume,src=NAME,dst=/in[,volume-opt=k=v][,volume-label=k=v][,volume-nocopy]
    --mount type=tmpfs,destination=/in[,tmpfs-size=64m][,tmpfs-mode=1770]

The value is one CSV record (quotes allowed, as in Docker). Two kinds of errors, both in
Docker's words: the command line's own (``invalid argument "type=bind" for "--mount" flag:
target is required``) and the daemon's checks of the result (``invalid mount config for type
"bind": field Source must not be empty``). That a bind source exists is checked when it is
resolved on the host (``bindsource.resolve``), not here.

Pure apart from ``os.getcwd`` for ``./`` sources; imports only the standard library,
``dockyard.errors`` and this package's model and modes.
"""

from __future__ import annotations

import os
import re

from dockyard import errors
from dockyard.volume import modes
from dockyard.volume.model import BIND, TMPFS, VOLUME, MountSpec, validate_name

__all__ = ["parse_bool", "parse_mount", "ram_in_bytes", "tmpfs_options"]

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bool(value: str) -> bool:
    """Go's ``strconv.ParseBool``. Raises ValueError for anything else."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(value)


def ram_in_bytes(value: str) -> int:
    """Docker's ``units.RAMInBytes``: ``64m`` = 64 MiB, ``1.5g``, ``100``. Raises ValueError."""
    m = _RAM.match(value)
    if m is None:
        raise ValueError(value)
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def tmpfs_options(size: int, mode: int | None) -> tuple[str, ...]:
    """Docker's tmpfs data options for a size in bytes (``size=64m``) and a mode (octal)."""
    out: list[str] = []
    if mode:
        out.append(f"mode={mode:o}")
    if size:
        amount, suffix = size, ""
        for unit, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
            if size % divisor == 0:
                amount, suffix = size // divisor, unit
                break
        out.append(f"size={amount}{suffix}")
    return tuple(out)


class _Fields:
    """What the key=value pairs said, before checking that they fit together."""

    def __init__(self) -> None:
        self.type = VOLUME
        self.source = ""
        self.target = ""
        self.readonly = False
        self.propagation = ""
        self.non_recursive = False
        self.bind_options = False
        self.volume_options = False
        self.tmpfs_options = False
        self.driver = ""
        self.labels: dict[str, str] = {}
        self.opts: dict[str, str] = {}
        self.nocopy = False
        self.tmpfs_size = 0
        self.tmpfs_mode: int | None = None


def _flag_error(raw: str, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(f'invalid argument "{raw}" for "--mount" flag: {message}')


def _put(target: dict[str, str], value: str) -> None:
    key, _, val = value.partition("=")
    if key:
        target[key] = val


def _read_fields(raw: str, cwd: str | None) -> _Fields:
    import csv  # only for --mount: not on every start

    try:
        rows = list(csv.reader([raw], strict=True))
    except csv.Error as exc:
        raise _flag_error(raw, f"parse error: {exc}") from exc
    f = _Fields()
    for item in rows[0] if rows else []:
        key, has_value, val = item.partition("=")
        key = key.lower()
        if not has_value:
            if key in ("readonly", "ro"):
                f.readonly = True
            elif key == "volume-nocopy":
                f.volume_options, f.nocopy = True, True
            elif key == "bind-nonrecursive":
                f.bind_options, f.non_recursive = True, True
            else:
                raise _flag_error(raw, f"invalid field '{item}' must be a key=value pair")
            continue
        try:
            _apply(f, key, val, cwd)
        except ValueError as exc:
            raise _flag_error(raw, f"invalid value for {key}: {val}") from exc
        except KeyError as exc:
            raise _flag_error(raw, f"unexpected key '{key}' in '{item}'") from exc
    return f


def _apply(f: _Fields, key: str, val: str, cwd: str | None) -> None:
    if key == "type":
        f.type = val.lower()
    elif key in ("source", "src"):
        f.source = val
        if val == "." or val.startswith("./"):
            f.source = os.path.normpath(os.path.join(cwd or os.getcwd(), val))
    elif key in ("target", "dst", "destination"):
        f.target = val
    elif key in ("readonly", "ro"):
        f.readonly = parse_bool(val)
    elif key == "consistency":
        pass  # accepted and ignored on Linux, as Docker does
    elif key == "bind-propagation":
        f.bind_options, f.propagation = True, val.lower()
    elif key == "bind-nonrecursive":
        f.bind_options, f.non_recursive = True, parse_bool(val)
    elif key == "volume-driver":
        f.volume_options, f.driver = True, val
    elif key == "volume-nocopy":
        f.volume_options, f.nocopy = True, parse_bool(val)
    elif key == "volume-label":
        f.volume_options = True
        _put(f.labels, val)
    elif key == "volume-opt":
        f.volume_options = True
        _put(f.opts, val)
    elif key == "tmpfs-size":
        f.tmpfs_options, f.tmpfs_size = True, ram_in_bytes(val)
    elif key == "tmpfs-mode":
        mode = int(val, 8)
        if not 0 <= mode < 1 << 32:
            raise ValueError(val)
        f.tmpfs_options, f.tmpfs_mode = True, mode
    else:
        raise KeyError(key)


def parse_mount(raw: str, cwd: str | None = None) -> MountSpec:
    """Parse one ``--mount`` value into a MountSpec.

    Raises InvalidArgument in Docker's words: the flag's own errors (``invalid argument "..."
    for "--mount" flag: target is required``), then the daemon's (``invalid mount config for
    type "tmpfs": field Source must not be specified``; a bad volume name).
    """
    f = _read_fields(raw, cwd)
    if not f.type:
        raise _flag_error(raw, "type is required")
    if not f.target:
        raise _flag_error(raw, "target is required")
    for present, kind, prefix in ((f.volume_options, VOLUME, "volume"),
                                  (f.bind_options, BIND, "bind"),
                                  (f.tmpfs_options, TMPFS, "tmpfs")):  # fmt: skip
        if present and f.type != kind:
            raise _flag_error(raw, f"cannot mix '{prefix}-*' options with mount type '{f.type}'")
    return _validated(f)


def _validated(f: _Fields) -> MountSpec:
    """The daemon's checks (``validateMountConfig``) and the resulting spec."""
    problem = modes.validate_target(f.target)
    if problem is not None:
        raise modes.config_error(f.type, problem)
    target = modes.clean_path(f.target)
    if f.type == BIND:
        if not f.source:
            raise modes.config_error(BIND, "field Source must not be empty")
        if f.propagation and f.propagation not in modes.PROPAGATIONS:
            raise modes.config_error(BIND, f"invalid propagation mode: {f.propagation}")
        if not f.source.startswith("/"):
            raise modes.config_error(
                BIND, f"invalid mount path: '{f.source}' mount path must be absolute"
            )
        return MountSpec(type=BIND, source=modes.clean_path(f.source), target=target,
                         readonly=f.readonly, propagation=f.propagation or "rprivate",
                         non_recursive=f.non_recursive)  # fmt: skip
    if f.type == VOLUME:
        if not f.source and f.readonly:
            raise modes.config_error(
                VOLUME, "must not set ReadOnly mode when using anonymous volumes"
            )
        if f.source:
            validate_name(f.source)
        return MountSpec(type=VOLUME, source=f.source, target=target, readonly=f.readonly,
                         volume_driver=f.driver, volume_labels=f.labels, volume_opts=f.opts,
                         nocopy=f.nocopy)  # fmt: skip
    if f.type == TMPFS:
        if f.source:
            raise modes.config_error(TMPFS, "field Source must not be specified")
        return MountSpec(type=TMPFS, target=target, readonly=f.readonly,
                         options=tmpfs_options(f.tmpfs_size, f.tmpfs_mode))  # fmt: skip
    raise modes.config_error(f.type, "mount type unknown")
