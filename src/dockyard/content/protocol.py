"""Roles of the content store, smallest first; a consumer depends on the one it needs.

Vocabulary: a *blob* is immutable bytes named by their digest. An *ingest* is a blob being
written: bytes go to a private temporary file, are hashed as they arrive, and become visible
under their digest only at ``commit()``, after the digest (and size, when announced) matched
and the file was fsynced. Nothing half-written is ever visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["BlobInfo", "Ingester", "Manager", "Provider", "Writer"]


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int


class Provider(Protocol):
    def has(self, digest: str) -> bool: ...
    def info(self, digest: str) -> BlobInfo: ...
    def open(self, digest: str) -> BinaryIO: ...
    def read_bytes(self, digest: str) -> bytes: ...
    def path(self, digest: str) -> Path: ...


class Writer(Protocol):
    @property
    def offset(self) -> int: ...
    def write(self, data: bytes) -> int: ...
    def commit(self) -> str: ...
    def abort(self) -> None: ...


class Ingester(Protocol):
    def writer(self, expected: str | None = None, size: int | None = None) -> Writer: ...
    def put_bytes(self, data: bytes, expected: str | None = None) -> str: ...
    def ingest(self, stream: BinaryIO, expected: str | None = None, size: int | None = None) -> str: ...


class Manager(Protocol):
    def delete(self, digest: str) -> None: ...
    def walk(self) -> Iterator[BlobInfo]: ...
