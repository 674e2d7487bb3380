"""The image service: find, register, list, inspect, tag, remove and prune images.

Transfers (import, save, load) live in ``image_transfer.py``; this module holds the records'
life cycle. Every operation takes typed arguments and returns data; rendering is the shells'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.images import ImageRecord, LayerRef
from dockyard.oci import image as docs
from dockyard.oci import reference
from dockyard.oci.digest import chain_ids

if TYPE_CHECKING:
    from dockyard.image.unpack import Unpacker
    from dockyard.service.engine import Engine

__all__ = ["ImageService", "ImageSummary", "RemoveReport"]

_FULL_ID = re.compile(r"^(?:sha256:)?([a-f0-9]{64})$")
_ID_PREFIX = re.compile(r"^(?:sha256:)?([a-f0-9]{1,64})$")


@dataclass
class ImageSummary:
    """One row of ``images``: an image with one of its references (or none)."""

    id: str
    repository: str  # familiar, "<none>" when dangling
    tag: str
    digest: str  # "<none>" or sha256:…
    created: str
    size: int
    labels: dict[str, str]
    repo_tags: list[str]
    repo_digests: list[str]
    containers: int = 0


@dataclass
class RemoveReport:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class ImageService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._records = engine.image_records
        self._content = engine.content
        # Who uses an image (container ids); the container service installs its own.
        self.users: Callable[[str], list[tuple[str, bool]]] = lambda image_id: []

    # -- finding ----------------------------------------------------------------------------
    def resolve(self, name: str) -> ImageRecord:
        """The image a user means by *name*: a full or short id, or a reference.

        Raises NotFound (``No such image: name``) or InvalidArgument for an ambiguous prefix.
        """
        image_id = self.resolve_id(name)
        return self._records.get(image_id)

    def resolve_id(self, name: str) -> str:
        m = _FULL_ID.match(name)
        if m:
            image_id = f"sha256:{m.group(1)}"
            if self._records.ids_with_prefix(image_id):
                return image_id
        ref = self._parse_or_none(name)
        if ref is not None:
            found = self._records.find_tag(str(ref))
            if found:
                return found
        m = _ID_PREFIX.match(name)
        if m:
            ids = self._records.ids_with_prefix(f"sha256:{m.group(1)}")
            if len(ids) == 1:
                return ids[0]
            if len(ids) > 1:
                raise errors.InvalidArgument(f"image ID {name!r} is ambiguous")
        if ref is None:
            reference.parse(name)  # raise the reference's own error
            raise errors.NotFound(f"No such image: {name}")
        raise errors.NotFound(f"No such image: {ref.familiar()}")  # as docker: nope:latest

    @staticmethod
    def _parse_or_none(name: str) -> reference.Reference | None:
        try:
            ref = reference.parse(name)
        except errors.InvalidArgument:
            return None
        return ref if ref.digest else ref.with_default_tag()

    def exists(self, name: str) -> bool:
        try:
            self.resolve_id(name)
        except errors.NotFound:
            return False
        return True

    # -- registering ------------------------------------------------------------------------
    def register(
        self,
        manifest_digest: str,
        *,
        ref: reference.Reference | None = None,
        repo_digest: str | None = None,
        index_digest: str | None = None,
        parent: str | None = None,
        on_layer: Callable[[int, str], None] | None = None,
        unpacker: Unpacker | None = None,
    ) -> str:
        """Make an image of a manifest whose blobs are all in the content store.

        Unpacks its layers (each once; with *unpacker*, those it started early are taken from
        it), records the image, tags it with *ref* and records *repo_digest*
        (``name@sha256:…``). Returns the image id. Raises DigestMismatch, InvalidArgument (bad
        documents or layers), NotFound (a missing blob).
        """
        from dockyard.image.unpack import LayerBlob
        from dockyard.image.unpack import Unpacker as _Unpacker

        manifest = docs.parse_json(self._content.read_bytes(manifest_digest), f"manifest {manifest_digest}")
        try:
            config_digest = manifest["config"]["digest"]
            layers = manifest.get("layers") or []
            blobs = [LayerBlob(d["digest"], d.get("mediaType", "")) for d in layers]
        except (KeyError, TypeError) as exc:
            raise errors.InvalidArgument(f"manifest {manifest_digest}: malformed: {exc}") from exc
        config = docs.parse_json(self._content.read_bytes(config_digest), f"image config {config_digest}")
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        chain = chain_ids(diff_ids)
        if len(layers) != len(diff_ids):
            raise errors.InvalidArgument(
                f"image {config_digest}: manifest has {len(layers)} layers, config {len(diff_ids)}"
            )
        record = ImageRecord(
            id=config_digest,
            manifest_digest=manifest_digest,
            manifest_media_type=manifest.get("mediaType") or _media_type_of(manifest),
            created=config.get("created") or docs.now_rfc3339(),
            added=docs.now_rfc3339(),
            index_digest=index_digest,
            parent=parent,
            layers=[
                LayerRef(chain[i], diff_ids[i], layers[i]["digest"], layers[i].get("mediaType", ""),
                         int(layers[i].get("size", 0)))
                for i in range(len(layers))
            ],
        )
        with ExitStack() as stack:
            if unpacker is None:
                unpacker = stack.enter_context(
                    _Unpacker(self._content, self._engine.snapshotter, self._engine.lock_dir)
                )
            unpacker.unpack(blobs, diff_ids, on_layer, then=lambda sizes: self._records.put(record, sizes))
        if ref is not None:
            self._records.tag(str(ref.with_default_tag()) if not ref.digest else str(ref), config_digest, docs.now_rfc3339())
        if repo_digest is not None:
            self._records.add_digest(repo_digest, config_digest)
        return config_digest

    def config(self, record: ImageRecord) -> dict[str, Any]:
        return docs.parse_json(self._content.read_bytes(record.id), f"image config {record.id}")

    def size(self, record: ImageRecord) -> int:
        return sum(self._records.layer_size(layer.chain_id) for layer in record.layers)

    # -- listing and inspecting ---------------------------------------------------------------
    def list_images(self, all_images: bool = False, filters: dict[str, list[str]] | None = None) -> list[ImageSummary]:
        """Rows for ``images``: one per tag, one ``<none>`` row for an untagged image.

        Raises InvalidArgument for an unknown filter.
        """
        from dockyard.service.image_filters import ImageFilter

        flt = ImageFilter(filters or {}, self)
        records = self._records.all()
        parents = {r.parent for r in records if r.parent}
        rows: list[ImageSummary] = []
        for record in records:
            dangling = not record.repo_tags
            if dangling and not all_images and record.id in parents:
                continue  # an intermediate image of a build
            config = self.config(record)
            labels = dict((config.get("config") or {}).get("Labels") or {})
            if not flt.keep(record, labels):
                continue
            size = self.size(record)
            digests = [d.split("@", 1)[1] for d in record.repo_digests]
            def row(repository: str, tag: str, digest: str, record: ImageRecord = record,
                    size: int = size, labels: dict[str, str] = labels) -> ImageSummary:
                return ImageSummary(record.id, repository, tag, digest, record.created, size,
                                    labels, record.repo_tags, record.repo_digests)

            refs = [reference.parse(t) for t in record.repo_tags]
            refs = [r for r in refs if flt.keep_ref(r)]
            if not refs and dangling:
                rows.append(row("<none>", "<none>", digests[0] if digests else "<none>"))
            for ref in refs:
                digest = next((d.split("@", 1)[1] for d in record.repo_digests
                               if d.split("@", 1)[0] == ref.name), "<none>")
                rows.append(row(ref.familiar_name(), ref.tag or "<none>", digest))
        rows.sort(key=lambda r: (r.created, r.repository, r.tag), reverse=True)
        return rows

    def inspect(self, name: str) -> dict[str, Any]:
        """The image as ``docker image inspect`` shows it. Raises NotFound."""
        record = self.resolve(name)
        config = self.config(record)
        top = record.top_chain_id
        graph: dict[str, Any] = {}
        if top is not None:
            try:
                graph = self._engine.snapshotter.describe(top)
            except errors.DockyardError:
                graph = {}
        return {
            "Id": record.id,
            "RepoTags": [reference.parse(t).familiar() for t in record.repo_tags],
            "RepoDigests": [reference.parse(d).familiar() for d in record.repo_digests],
            "Parent": record.parent or "",
            "Comment": _last_comment(config),
            "Created": config.get("created", record.created),
            "DockerVersion": config.get("docker_version", ""),
            "Author": config.get("author", ""),
            "Config": config.get("config") or {},
            "Architecture": config.get("architecture", ""),
            **({"Variant": config["variant"]} if config.get("variant") else {}),
            "Os": config.get("os", ""),
            "Size": self.size(record),
            "GraphDriver": {"Data": graph, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in record.layers]},
            "Metadata": {"LastTagTime": record.last_tag_time or "0001-01-01T00:00:00Z"},
            "Descriptor": {
                "mediaType": record.manifest_media_type,
                "digest": record.manifest_digest,
                "size": self._content.info(record.manifest_digest).size,
            },
        }

    def history(self, name: str) -> list[dict[str, Any]]:
        """``docker history`` rows, newest first: Id, Created, CreatedBy, Size, Comment, Tags."""
        record = self.resolve(name)
        config = self.config(record)
        history = list(config.get("history") or [])
        sizes = [self._records.layer_size(layer.chain_id) for layer in record.layers]
        if not history:
            history = [{"created": config.get("created", "")} for _ in record.layers]
        rows = []
        layer_index = 0
        for entry in history:
            size = 0
            if not entry.get("empty_layer") and layer_index < len(sizes):
                size = sizes[layer_index]
                layer_index += 1
            rows.append({
                "Id": "<missing>",
                "Created": entry.get("created", ""),
                "CreatedBy": entry.get("created_by", ""),
                "Size": size,
                "Comment": entry.get("comment", ""),
                "Tags": None,
            })
        rows.reverse()
        if rows:
            rows[0]["Id"] = record.id
            rows[0]["Tags"] = [reference.parse(t).familiar() for t in record.repo_tags] or None
        return rows

    # -- tagging and removing ---------------------------------------------------------------
    def tag(self, source: str, target: str) -> None:
        """``docker tag SOURCE TARGET``. Raises NotFound, InvalidArgument."""
        image_id = self.resolve_id(source)
        ref = reference.parse(target)
        if ref.digest:
            raise errors.InvalidArgument("refusing to create a tag with a digest reference")
        full = ref.with_default_tag()
        self._records.tag(str(full), image_id, docs.now_rfc3339())
        self._engine.events.emit("image", "tag", image_id, {"name": full.familiar()})

    def remove(self, name: str, force: bool = False, prune: bool = True) -> RemoveReport:
        """``docker rmi``: untag a reference, and delete the image when nothing names it.

        Raises NotFound, Conflict (in use by a container, or named by several repositories
        and removed by id without ``force``).
        """
        image_id = self.resolve_id(name)
        record = self._records.get(image_id)
        report = RemoveReport()
        by_reference = self._parse_or_none(name) is not None and not _ID_PREFIX.match(name) \
            and self._records.find_tag(str(self._parse_or_none(name))) == image_id
        users = self.users(image_id)
        if by_reference:
            ref = str(self._parse_or_none(name))
            others = [t for t in record.repo_tags + record.repo_digests if t != ref]
            if users and not force and not [t for t in others if t in record.repo_tags]:
                raise errors.Conflict(
                    f'conflict: unable to remove repository reference "{name}" (must force) - '
                    f"container {users[0][0][:12]} is using its referenced image {_short(image_id)}"
                )
            self._records.untag(ref)
            report.untagged.append(reference.parse(ref).familiar())
            if [t for t in others if t in record.repo_tags]:
                self._emit_removal(image_id, report)
                return report
            # the last tag is gone: digests go with it, then the image
            for digest_ref in record.repo_digests:
                self._records.untag(digest_ref)
                report.untagged.append(reference.parse(digest_ref).familiar())
        else:
            if len(record.repo_tags) > 1 and not force:
                raise errors.Conflict(
                    f"conflict: unable to delete {_short(image_id)} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
        if users:
            running = [cid for cid, is_running in users if is_running]
            if running:
                raise errors.Conflict(
                    f"conflict: unable to delete {_short(image_id)} (cannot be forced) - "
                    f"image is being used by running container {running[0][:12]}"
                )
            if not force:
                raise errors.Conflict(
                    f"conflict: unable to delete {_short(image_id)} (must be forced) - "
                    f"image is being used by stopped container {users[0][0][:12]}"
                )
        if self._records.children(image_id) and not force:
            raise errors.Conflict(
                f"conflict: unable to delete {_short(image_id)} (cannot be forced) - "
                "image has dependent child images"
            )
        for ref in record.repo_tags + record.repo_digests:
            if self._records.untag(ref):
                report.untagged.append(reference.parse(ref).familiar())
        self._records.delete(image_id)
        report.deleted.append(image_id)
        self.collect_garbage([record])
        self._emit_removal(image_id, report)
        return report

    def _emit_removal(self, image_id: str, report: RemoveReport) -> None:
        for ref in report.untagged:
            self._engine.events.emit("image", "untag", image_id, {"name": ref})
        for deleted in report.deleted:
            self._engine.events.emit("image", "delete", deleted, {"name": deleted})

    def collect_garbage(self, records: list[ImageRecord], blobs: set[str] | None = None) -> int:
        """Remove the layer snapshots and blobs of *records* (deleted images) that no image uses
        any more, plus the unused ones among *blobs*; returns the bytes freed.

        Only candidates are considered, never the whole store, so content that a concurrent
        pull or build has written but not yet recorded is safe.
        """
        from dockyard.image.unpack import locked

        snapshotter = self._engine.snapshotter
        freed = 0
        chain = [layer.chain_id for r in records for layer in r.layers]
        candidates = list(dict.fromkeys(reversed(chain)))  # top layers first
        removed: list[str] = []
        with locked(self._engine.lock_dir, candidates):
            in_use = self._records.chain_ids_in_use()
            sizes = self._records.layer_sizes()
            for name in candidates:
                if name in in_use:
                    continue
                try:
                    snapshotter.remove(name)
                except errors.NotFound:
                    pass
                except errors.Conflict:
                    continue  # a child (a container's layer) still needs it
                freed += sizes.get(name, 0)
                removed.append(name)
            self._records.forget_layer_sizes(removed)
        blob_candidates = set(blobs or ())
        for r in records:
            blob_candidates.update(layer.blob_digest for layer in r.layers)
            blob_candidates.update(d for d in (r.id, r.manifest_digest, r.index_digest) if d)
        from dockyard.content.leases import BlobLeases

        leases = BlobLeases(self._engine.lock_dir)
        try:
            for digest in blob_candidates:
                leases.hold(digest)
                if not leases.exclusive(digest):
                    continue  # a pull in flight uses it
                if digest in self._records.blobs_in_use() | self.extra_blobs_in_use():
                    continue
                try:
                    freed += self._content.info(digest).size
                except errors.NotFound:
                    continue
                self._content.delete(digest)
        finally:
            leases.release()
        return freed

    def extra_blobs_in_use(self) -> set[str]:
        """Blobs kept for reasons other than images: the build cache's layers."""
        from dockyard.service.build import build_cache

        return build_cache(self._engine).blob_digests()

    def prune(self, all_images: bool = False, filters: dict[str, list[str]] | None = None) -> tuple[list[dict[str, str]], int]:
        """``image prune``: dangling images (or every unused one with *all_images*)."""
        from dockyard.service.image_filters import ImageFilter

        flt = ImageFilter(filters or {}, self)
        results: list[dict[str, str]] = []
        deleted: list[ImageRecord] = []
        for record in self._records.all():
            if record.repo_tags and not all_images:
                continue
            if self.users(record.id) or self._records.children(record.id):
                continue
            if not flt.keep(record, dict((self.config(record).get("config") or {}).get("Labels") or {})):
                continue
            for ref in record.repo_tags + record.repo_digests:
                self._records.untag(ref)
                results.append({"Untagged": reference.parse(ref).familiar()})
            self._records.delete(record.id)
            results.append({"Deleted": record.id})
            deleted.append(record)
        freed = self.collect_garbage(deleted)
        return results, freed


def _short(image_id: str) -> str:
    return image_id.split(":")[-1][:12]


def _last_comment(config: dict[str, Any]) -> str:
    history = config.get("history") or []
    return str(history[-1].get("comment", "")) if history else ""


def _media_type_of(manifest: dict[str, Any]) -> str:
    from dockyard.oci import mediatypes as mt

    config_type = (manifest.get("config") or {}).get("mediaType", "")
    return mt.DOCKER_MANIFEST if config_type == mt.DOCKER_CONFIG else mt.OCI_MANIFEST
