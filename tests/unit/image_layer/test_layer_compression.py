"""Compression: detection by magic bytes, reading through it, writing with it."""

from __future__ import annotations

import gzip
import io
import os

import pytest
import zstandard

from dockyard import errors
from dockyard.image.compression import (
    Compression,
    compressed_writer,
    decompressed,
    detect,
    read_errors,
)

PAYLOAD = os.urandom(50_000) * 4


def _read_all(stream: io.BytesIO) -> tuple[Compression, bytes]:
    kind, reader = decompressed(stream)
    chunks = []
    with read_errors("blob"):
        while chunk := reader.read(1 << 16):
            chunks.append(chunk)
    return kind, b"".join(chunks)


def test_detect_by_magic() -> None:
    assert detect(gzip.compress(b"x")[:4]) is Compression.GZIP
    assert detect(zstandard.ZstdCompressor().compress(b"x")[:4]) is Compression.ZSTD
    assert detect(b"etc/") is Compression.NONE
    assert detect(b"") is Compression.NONE


@pytest.mark.parametrize(
    ("blob", "kind"),
    [
        (PAYLOAD, Compression.NONE),
        (gzip.compress(PAYLOAD), Compression.GZIP),
        (gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:]), Compression.GZIP),
        (zstandard.ZstdCompressor().compress(PAYLOAD), Compression.ZSTD),
    ],
    ids=["plain", "gzip", "gzip-multimember", "zstd"],
)
def test_decompressed_reads_the_original_bytes(blob: bytes, kind: Compression) -> None:
    assert _read_all(io.BytesIO(blob)) == (kind, PAYLOAD)


@pytest.mark.parametrize("kind", list(Compression))
def test_writer_round_trips_and_is_deterministic(kind: Compression) -> None:
    blobs = []
    for _ in range(2):
        out = io.BytesIO()
        with compressed_writer(out, kind, level=3) as w:
            w.write(PAYLOAD)
        assert not out.closed
        blobs.append(out.getvalue())
    assert blobs[0] == blobs[1], "the same input must give the same blob digest"
    assert detect(blobs[0][:4]) is kind
    assert _read_all(io.BytesIO(blobs[0])) == (kind, PAYLOAD)


def test_gzip_output_is_readable_by_the_stdlib() -> None:
    out = io.BytesIO()
    with compressed_writer(out, Compression.GZIP, level=1) as w:
        w.write(PAYLOAD)
    assert gzip.decompress(out.getvalue()) == PAYLOAD


def test_bad_levels_are_refused() -> None:
    with (
        pytest.raises(errors.InvalidArgument),
        compressed_writer(io.BytesIO(), Compression.GZIP, 10),
    ):
        pass
    with (
        pytest.raises(errors.InvalidArgument),
        compressed_writer(io.BytesIO(), Compression.ZSTD, 0),
    ):
        pass


def test_corrupt_gzip_is_invalid_argument() -> None:
    blob = bytearray(gzip.compress(PAYLOAD))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = b"\0" * 64
    with pytest.raises(errors.InvalidArgument, match="corrupt"):
        _read_all(io.BytesIO(bytes(blob)))
