"""``commit``: a new image from a container's changes (``docker commit``), and ``export``:
a tar of a container's whole filesystem.

The container's writable layer (``snapshotter.upper_dir``) holds exactly its own changes
(the init layer is below it), so it becomes one new gzip layer on top of the image's
layers; the new config is the image's with the container's effective Config (and
``--change``) in it, and a history entry. The image service registers the manifest.
Imports only the standard library, ``dockyard.errors``, ``oci/`` and ``image/``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["commit", "export"]

# the image-config fields a container's Config carries over (Docker's)
IMAGE_FIELDS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell")  # fmt: skip


def new_image_config(
    base: dict[str, Any], container_config: dict[str, Any], changes: list[str], diff_id: str,
    *, created: str, author: str = "", comment: str = "", created_by: str = "",
) -> dict[str, Any]:  # fmt: skip
    """The committed image's config document: *base* with the container's Config fields,
    *changes* applied, *diff_id* appended and a history entry. Pure. Raises
    InvalidArgument (a bad change)."""
    from dockyard.oci import image as docs
    from dockyard.service.changes import apply_changes

    doc = copy.deepcopy(base)
    cfg = dict(doc.get("config") or {})
    for key in IMAGE_FIELDS:
        if container_config.get(key) is not None:
            cfg[key] = copy.deepcopy(container_config[key])
    if changes:
        cfg = apply_changes(cfg, changes)
    doc["config"] = cfg
    doc["created"] = created
    if author:
        doc["author"] = author
    else:
        doc.pop("author", None)
    doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    doc["rootfs"]["diff_ids"] = [*doc["rootfs"].get("diff_ids", []), diff_id]
    entry = docs.history_entry(created, created_by, comment, author=author)
    doc["history"] = [*(doc.get("history") or []), entry]
    return doc


def commit(
    svc: ContainerService,
    record: ContainerRecord,
    ref: str | None = None,
    *,
    comment: str = "",
    author: str = "",
    changes: list[str] | None = None,
    pause: bool = True,
) -> str:
    """Commit *record*'s writable layer as a new image tagged *ref*; the image id.

    A running container is frozen while its layer is read (unless *pause* is False).
    Raises NotFound, InvalidArgument (bad reference or change), Conflict.
    """
    import json

    from dockyard.oci import image as docs
    from dockyard.oci import reference

    parsed = None
    if ref:
        parsed = reference.parse(ref).with_default_tag()
        if getattr(parsed, "digest", None):
            raise errors.InvalidArgument(f"invalid reference format: {ref} (a digest)")
    images = svc.engine.images
    image = images.resolve(record.image_id)
    base = images.config(image)
    manifest = docs.parse_json(svc.engine.content.read_bytes(image.manifest_digest),
                               f"manifest {image.manifest_digest}")  # fmt: skip
    upper = svc.engine.snapshotter.upper_dir(record.snapshot_key)
    froze = False
    if pause and svc.live(record).status == "running":
        from dockyard.service.containers.pause import pause as do_pause

        try:
            do_pause(svc, record)
            froze = True
        except errors.DockyardError:
            froze = False
    try:
        from dockyard.image.diff import write_layer_blob

        diff_id, layer = write_layer_blob(svc.engine.content, upper)
    finally:
        if froze:
            from dockyard.service.containers.pause import unpause

            unpause(svc, record)
    created_by = " ".join(record.config.get("Cmd") or [])
    config_doc = new_image_config(base, record.config, list(changes or []), diff_id,
                                  created=docs.now_rfc3339(), author=author, comment=comment,
                                  created_by=created_by)  # fmt: skip
    config_bytes = json.dumps(config_doc, separators=(",", ":")).encode()
    content = svc.engine.content
    content.put_bytes(config_bytes)
    new_manifest = docs.new_manifest(config_bytes, [*(manifest.get("layers") or []), layer])
    manifest_digest = content.put_bytes(docs.canonical(new_manifest))
    image_id = images.register(manifest_digest, ref=parsed, parent=image.id)
    svc.emit("commit", record, {"comment": comment} if comment else None)
    return image_id


def export(svc: ContainerService, record: ContainerRecord, out: BinaryIO) -> None:
    """Write a tar of *record*'s whole filesystem to *out*: its writable layer over the
    image's, mounted read-only for the moment (so a running container is not disturbed).
    Raises NotFound, and what mounting raises."""
    from dockyard.image.diff import write_tree
    from dockyard.mount import Mount, mounted

    snap = svc.engine.snapshotter
    upper = os.fspath(snap.upper_dir(record.snapshot_key))
    lowers: list[str] = []
    for m in snap.mounts(record.snapshot_key):
        lowers += [o[len("lowerdir=") :] for o in m.options if o.startswith("lowerdir=")]
    view = Mount(
        "overlay", "overlay", ("ro", "index=off", f"lowerdir={':'.join([upper, *lowers])}")
    )
    with mounted([view], Path(svc.state_dir(record.id))) as root:
        write_tree(root, out)
    svc.emit("export", record)
