"""``-v``/``--volume``: Docker's short mount syntax, parsed into a :class:`MountSpec`.

    -v /path                      anonymous volume at /path
    -v NAME:/path[:MODE]          named volume (created when missing)
    -v /host/path:/path[:MODE]    bind mount; a missing host directory is created at run
    -v ./rel:/path                relative host paths are made absolute first (as the CLI does)

MODE is a comma list (see ``modes``): ``ro``/``rw``, ``z``/``Z``, a propagation, ``nocopy``.
Errors carry Docker's words: ``invalid volume specification: '...'``, ``invalid mode: ...``.

Pure apart from ``os.getcwd`` for relative sources; imports only the standard library,
``dockyard.errors`` and this package's model and modes.
"""

from __future__ import annotations

import os

from dockyard import errors
from dockyard.volume import modes
from dockyard.volume.model import BIND, VOLUME, MountSpec, validate_name

__all__ = ["parse_volume"]


def _invalid_spec(raw: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(f"invalid volume specification: '{raw}'")


def parse_volume(raw: str, cwd: str | None = None) -> MountSpec:
    """Parse one ``-v`` value. *cwd* makes ``./x`` and ``.`` sources absolute.

    Raises InvalidArgument with Docker's message for a malformed spec, an unknown or repeated
    mode, a relative or ``/`` target, a read-only anonymous volume or a bad volume name.
    """
    source, sep, rest = raw.partition(":")
    if source in (".",) or source.startswith("./"):
        base = cwd if cwd is not None else os.getcwd()
        source = os.path.normpath(os.path.join(base, source))
        raw_abs = f"{source}{sep}{rest}"
    else:
        raw_abs = raw
    parts = raw_abs.split(":", 3)
    if parts[0] == "":
        raise _invalid_spec(raw)
    mode = ""
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2:
        if modes.valid_mode(parts[1]):  # "/foo:rw": a volume cannot carry a mode alone
            raise _invalid_spec(raw)
        source, target = parts
    elif len(parts) == 3:
        source, target, mode = parts
    else:
        raise _invalid_spec(raw)
    if not modes.valid_mode(mode):
        raise errors.InvalidArgument(f"invalid mode: {mode}")
    kind = BIND if source.startswith("/") else VOLUME
    readonly = not modes.read_write(mode)
    problem = modes.validate_target(target)
    if problem is None and kind == BIND and modes.copy_mode(mode) is not None:
        problem = "field VolumeOptions must not be specified"
    if problem is None and kind == VOLUME and modes.propagation_of(mode):
        problem = "field BindOptions must not be specified"
    if problem is None and kind == VOLUME and not source and readonly:
        problem = "must not set ReadOnly mode when using anonymous volumes"
    if problem is not None:
        raise errors.InvalidArgument(
            f"invalid volume specification: '{raw}': "
            f'invalid mount config for type "{kind}": {problem}'
        )
    if kind == VOLUME and source:
        validate_name(source)
    propagation = modes.propagation_of(mode)
    if kind == BIND:
        return MountSpec(
            type=BIND,
            source=modes.clean_path(source),
            target=modes.clean_path(target),
            readonly=readonly,
            options=modes.labels_of(mode),
            propagation=propagation or "rprivate",
            mode=mode,
            create_source=True,
        )
    return MountSpec(
        type=VOLUME,
        source=source,
        target=modes.clean_path(target),
        readonly=readonly,
        options=modes.labels_of(mode),
        mode=mode or ("z" if source else ""),  # Docker shows "z" for a named local volume
        nocopy=modes.copy_mode(mode) is False,
    )
