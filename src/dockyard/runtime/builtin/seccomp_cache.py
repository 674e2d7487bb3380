"""Compiled seccomp programs, cached by profile under the runtime's state root.

Compiling Docker's default profile with libseccomp costs ~20 ms; loading the result costs
microseconds. ``create`` asks here for the BPF bytes of a spec's profile (compiling once per
distinct profile and architecture) and hands them to the init, which only loads them.
The cache lives in ``<root>/.seccomp/`` (``/run`` is a tmpfs, so a reboot, e.g. after a
libseccomp upgrade, empties it); entries are keyed by SHA-256, written by rename.
Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys.seccomp``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dockyard import errors
from dockyard.oci.digest import sha256_hex

__all__ = ["program_for"]

CACHE_DIR = ".seccomp"  # not a valid container id: ids start with a letter or digit


def program_for(root: str, profile: dict[str, Any]) -> bytes:
    """The BPF program for OCI seccomp *profile*, from the cache or freshly compiled.

    Raises InvalidArgument for a profile libseccomp rejects, Unavailable without libseccomp.
    """
    key = sha256_hex(
        json.dumps([os.uname().machine, profile], sort_keys=True, separators=(",", ":")).encode()
    )
    path = os.path.join(root, CACHE_DIR, key + ".bpf")
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        pass
    from dockyard._sys import seccomp

    try:
        program = seccomp.compile_bpf(profile)
    except (KeyError, ValueError) as exc:
        raise errors.InvalidArgument(f"bad seccomp profile: {exc}") from exc
    except OSError as exc:
        if exc.errno == 38:  # ENOSYS: no libseccomp
            raise errors.Unavailable(f"seccomp: {exc.strerror}") from exc
        raise errors.InvalidArgument(f"bad seccomp profile: {exc.strerror}") from exc
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(program)
    os.replace(tmp, path)
    return program
