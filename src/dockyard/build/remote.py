"""``ADD https://…``: downloading a remote source, and checking ``--checksum``.

The file is saved under the build's scratch directory with mode 0600 (Docker's mode for a
downloaded ``ADD`` source); the caller removes it after the step.

Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from dockyard import errors

__all__ = ["fetch_url"]

_CHUNK = 1 << 20


def fetch_url(url: str, work_dir: Path, checksum: str | None = None) -> Path:
    """Download ``url`` into ``work_dir``; the file's path.

    Raises Unavailable when the download fails, DigestMismatch when ``checksum``
    (``sha256:<hex>``) does not match, InvalidArgument for a bad checksum.
    """
    if checksum is not None and not checksum.startswith("sha256:"):
        raise errors.InvalidArgument(f"unsupported checksum {checksum!r} (want sha256:<hex>)")
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"add-{secrets.token_hex(8)}"
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as out:
            while chunk := response.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise errors.Unavailable(f"ADD {url}: {exc}") from exc
    os.chmod(path, 0o600)
    got = "sha256:" + h.hexdigest()
    if checksum is not None and got != checksum:
        path.unlink(missing_ok=True)
        raise errors.DigestMismatch(f"ADD {url}: checksum mismatch: expected {checksum}, got {got}")
    return path
