"""Images in and out of the engine as files: import a rootfs, save and load archives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from dockyard import errors
from dockyard.oci import image as docs
from dockyard.oci import reference
from dockyard.oci.platform import Platform, host, parse

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = ["ImportRequest", "import_image", "load_images", "save_images"]


@dataclass
class ImportRequest:
    source_name: str  # as the user gave it ("-", a path or a URL): recorded in the history
    stream: BinaryIO
    ref: str | None = None
    changes: tuple[str, ...] = ()
    message: str = ""
    platform: str | None = None


def import_image(engine: Engine, req: ImportRequest) -> str:
    """``docker import``: a rootfs tarball becomes a one-layer image. Returns the image id.

    Raises InvalidArgument (bad reference, change or tarball).
    """
    from dockyard.image.importer import import_rootfs
    from dockyard.service.changes import apply_changes

    ref = reference.parse(req.ref).with_default_tag() if req.ref else None
    if ref is not None and ref.digest:
        raise errors.InvalidArgument("import does not take a digest reference")
    config = apply_changes({}, req.changes)
    platform: Platform = parse(req.platform) if req.platform else host()
    created = docs.now_rfc3339()
    comment = req.message or f"Imported from {req.source_name}"
    imported = import_rootfs(engine.content, req.stream, platform, config, comment, created)
    try:
        image_id = engine.images.register(imported.manifest_digest, ref=ref)
        engine.events.emit("image", "import", image_id, {"name": ref.familiar() if ref else image_id})
        return image_id
    except BaseException:
        for digest in (imported.manifest_digest, imported.config_digest):
            if not engine.image_records.by_manifest(digest) and not engine.image_records.ids_with_prefix(digest):
                engine.content.delete(digest)
        raise


def save_images(engine: Engine, names: list[str], out: BinaryIO) -> None:
    """``docker save``: the named images (ids, tags, or repositories meaning all their tags).

    Raises NotFound naming the first unknown image.
    """
    from dockyard.image.save import SaveItem, write_archive

    items: dict[str, SaveItem] = {}
    for name in names:
        for record, refs in _save_targets(engine, name):
            item = items.get(record.id)
            if item is None:
                item = items[record.id] = SaveItem(
                    record.manifest_digest, record.manifest_media_type, record.id,
                    [layer.blob_digest for layer in record.layers],
                    [layer.diff_id for layer in record.layers],
                )
            for ref in refs:
                pair = (str(ref), ref.familiar())
                if pair not in item.refs:
                    item.refs.append(pair)
    write_archive(engine.content, list(items.values()), out)


def _save_targets(engine: Engine, name: str) -> list[tuple[Any, list[reference.Reference]]]:
    images = engine.images
    try:
        ref = reference.parse(name)
    except errors.InvalidArgument:
        ref = None
    if ref is not None and ref.tag is None and ref.digest is None:
        # a bare repository: every tag of it, as docker save does
        by_image: dict[str, list[reference.Reference]] = {}
        for record in engine.image_records.all():
            for tag in record.repo_tags:
                tagged = reference.parse(tag)
                if tagged.name == ref.name:
                    by_image.setdefault(record.id, []).append(tagged)
        if by_image:
            return [(engine.image_records.get(i), refs) for i, refs in by_image.items()]
    record = images.resolve(name)
    if ref is not None and ref.tag is not None:
        return [(record, [ref])]
    return [(record, [])]


def load_images(engine: Engine, stream: BinaryIO, platform: str | None = None) -> list[str]:
    """``docker load``: returns Docker's lines (``Loaded image: busybox:latest``,
    ``Loaded image ID: sha256:…``). Nothing of a failed load stays behind.

    Layers are unpacked while the archive is still being read: each layer blob is handed to
    the unpacker's workers as soon as it is stored and verified.

    Raises InvalidArgument (a malformed archive), DigestMismatch.
    """
    from dockyard.image.load import read_archive
    from dockyard.image.unpack import Unpacker

    want = parse(platform) if platform else host()
    archive = None
    ingested: set[str] = set()
    known = engine.image_records.blobs_in_use()  # their layers are unpacked already

    def on_blob(digest: str) -> None:
        if digest not in known:
            unpacker.early(digest)

    try:
        with Unpacker(engine.content, engine.snapshotter, engine.lock_dir) as unpacker:
            archive = read_archive(engine.content, stream, want, on_blob, ingested)
            lines: list[str] = []
            for image in archive.images:
                refs = list({str(r): r for r in (reference.parse(t).with_default_tag() for t in image.refs)}.values())
                image_id = engine.images.register(
                    image.manifest_digest, ref=refs[0] if refs else None, unpacker=unpacker
                )
                engine.events.emit("image", "load", image_id,
                                   {"name": refs[0].familiar() if refs else image_id})
                for ref in refs[1:]:
                    engine.images.tag(image_id, str(ref))
                if refs:
                    lines.extend(f"Loaded image: {r.with_default_tag().familiar()}" for r in refs)
                else:
                    lines.append(f"Loaded image ID: {image_id}")
        return lines
    finally:
        # After the unpacker is closed: no worker reads a blob any more.
        used = engine.image_records.blobs_in_use() | engine.images.extra_blobs_in_use()
        for digest in ingested - used:
            engine.content.delete(digest)
        if archive is not None:
            for image in archive.images:
                if image.manifest_digest not in used:
                    engine.content.delete(image.manifest_digest)
