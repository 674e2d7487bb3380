"""Feeding nftables a ruleset text: through libnftables (ctypes) when present, else ``nft -f -``.

Both run the very same parser and commit the text as one atomic transaction; the library
saves the 15-25 ms of starting the ``nft`` binary, which is most of a container's network
set-up time. The netlink socket is opened per call, in the calling thread's network namespace.
Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import threading

from dockyard import errors

__all__ = ["run_nft"]

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_loaded = False


def _library() -> ctypes.CDLL | None:
    global _lib, _loaded
    with _lock:
        if not _loaded:
            _loaded = True
            try:  # the soname first: find_library runs `ldconfig -p` (and loads tempfile)
                lib = ctypes.CDLL("libnftables.so.1")
            except OSError:
                from ctypes.util import find_library

                name = find_library("nftables")
                if name is None:
                    return None
                try:
                    lib = ctypes.CDLL(name)
                except OSError:
                    return None
            lib.nft_ctx_new.restype = ctypes.c_void_p
            lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
            lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
            lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
            lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
            _lib = lib
        return _lib


def _run_lib(lib: ctypes.CDLL, script: str) -> tuple[int, str, str]:
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        raise errors.Unavailable("nftables: cannot create a libnftables context")
    try:
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)
        rc = lib.nft_run_cmd_from_buffer(ctx, script.encode())
        out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode(errors="replace")
        err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace")
        return rc, out, err
    finally:
        lib.nft_ctx_free(ctx)


def _run_binary(script: str) -> tuple[int, str, str]:
    nft = shutil.which("nft")
    if nft is None:
        raise errors.Unavailable("nftables is not available: neither libnftables nor nft found")
    proc = subprocess.run([nft, "-f", "-"], input=script, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def run_nft(script: str, what: str) -> str:
    """Commit *script* (``nft -f`` syntax) atomically; return what nft printed.

    Raises Unavailable when nftables is missing or refuses the script (*what* names the
    change in the message).
    """
    lib = _library()
    rc, out, err = _run_lib(lib, script) if lib is not None else _run_binary(script)
    if rc != 0:
        raise errors.Unavailable(f"nftables refused to {what}: {err.strip() or rc}")
    return out
