"""`import` takes a file, standard input or a URL, compressed any way Docker accepts."""

from __future__ import annotations

import bz2
import gzip
import http.server
import lzma
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "www"
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(folder), **kw)

        def log_message(self, *a) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_from_a_url(dockyard, busybox_tar: Path, http_root) -> None:
    folder, url = http_root
    (folder / "rootfs.tar.gz").write_bytes(gzip.compress(busybox_tar.read_bytes()))
    image_id = dockyard.out("import", f"{url}/rootfs.tar.gz", "fromurl:1").strip()
    assert dockyard.inspect("fromurl:1")["Id"] == image_id
    assert dockyard.out("history", "--format", "{{.Comment}}", "fromurl:1").strip() == f"Imported from {url}/rootfs.tar.gz"


def test_import_from_a_missing_url_fails_cleanly(dockyard, http_root, data_root: Path) -> None:
    _, url = http_root
    proc = dockyard.run("import", f"{url}/nope.tar", "x:1", check=False)
    assert proc.returncode == 125
    assert dockyard.out("images", "-q").strip() == ""


@pytest.mark.parametrize("compress", [bytes, gzip.compress, bz2.compress, lzma.compress])
def test_import_from_stdin_in_any_compression(dockyard, busybox_tar: Path, compress) -> None:
    plain = dockyard.out("import", str(busybox_tar)).strip()
    image_id = dockyard.out("import", "-", "stdin:1", input=compress(busybox_tar.read_bytes())).strip()
    # the same rootfs gives the same layer, whatever the compression it came in
    assert dockyard.inspect(image_id)["RootFS"] == dockyard.inspect(plain)["RootFS"]


def test_import_refuses_a_bad_change_and_stores_nothing(dockyard, busybox_tar: Path, data_root: Path) -> None:
    proc = dockyard.run("import", "-c", "RUN echo", str(busybox_tar), "bad:1", check=False)
    assert proc.returncode == 125
    assert "RUN is not a valid change command" in proc.stderr.decode()
    assert not (data_root / "content" / "blobs").exists() or not any((data_root / "content" / "blobs").rglob("*[0-9a-f]"))
