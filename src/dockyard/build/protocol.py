"""What the builder needs from the engine, as small roles the service layer fills in.

``Storage`` is where layers go (content store, snapshotter, lock and scratch directories, the
runtime's state root); ``BaseResolver`` turns a ``FROM`` image name into its config and
layers (pulling as the ``--pull`` policy says: that is the service's business, not ours).

Imports only the standard library and the protocols of L2 packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dockyard.build.state import Layer

if TYPE_CHECKING:  # types only: importing them costs start-up time on every build
    from dockyard.build.cache import BuildCache
    from dockyard.content.protocol import Ingester, Provider
    from dockyard.snapshot.protocol import Snapshotter

    class ContentStore(Provider, Ingester, Protocol):
        """Read and write blobs."""


__all__ = ["BaseImage", "BaseResolver", "ContentStore", "Storage"]


@dataclass(frozen=True)
class BaseImage:
    """A ``FROM`` image: its id, config document and layers."""

    id: str
    config: dict[str, Any]
    layers: list[Layer]


class BaseResolver(Protocol):
    """Finds (or pulls) the image a ``FROM`` names; raises NotFound."""

    def __call__(self, name: str, platform: str | None) -> BaseImage: ...


@dataclass(frozen=True)
class Storage:
    """The stores a build writes to, and its scratch space (``work_dir``, on the data root)."""

    content: ContentStore
    snapshotter: Snapshotter
    cache: BuildCache
    lock_dir: Path
    work_dir: Path
    runtime_root: Path
