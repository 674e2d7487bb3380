"""System-wide reports: ``system df``.

Sizes are what the data root really holds on disk: an image's share is its layer snapshots
plus its blobs in the content store, each counted once however many images share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = ["UsageRow", "disk_usage"]


@dataclass
class UsageRow:
    kind: str
    total: int
    active: int
    size: int
    reclaimable: int


def disk_usage(engine: Engine) -> list[UsageRow]:
    records = engine.image_records.all()
    layer_sizes = engine.image_records.layer_sizes()
    chains = {layer.chain_id for r in records for layer in r.layers}
    blobs: set[str] = set()
    for r in records:
        blobs.update(layer.blob_digest for layer in r.layers)
        blobs.update(d for d in (r.id, r.manifest_digest, r.index_digest) if d)
    blob_bytes = 0
    for digest in blobs:
        if engine.content.has(digest):
            blob_bytes += engine.content.info(digest).size
    size = sum(layer_sizes.get(c, 0) for c in chains) + blob_bytes
    active_ids = {r.id for r in records if engine.images.users(r.id)}
    reclaimable = 0 if active_ids else size
    volumes = engine.volumes.usage()
    return [
        UsageRow("Images", len(records), len(active_ids), size, reclaimable),
        UsageRow("Containers", 0, 0, 0, 0),
        UsageRow("Local Volumes", volumes.count, volumes.active, volumes.size, volumes.reclaimable),
        UsageRow("Build Cache", 0, 0, 0, 0),
    ]
