"""The Engine and the composition root: the one place that names concrete classes.

``Engine(settings)`` builds each component on first use, so a command pays only for what it
touches (``dockyard images`` never loads the runtime). The CLI and the daemon hold one Engine
each over the same data root, and so share all state.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from dockyard.service.settings import Settings

if TYPE_CHECKING:
    from dockyard.content.store import ContentStore
    from dockyard.metadata.db import Database
    from dockyard.metadata.events import EventLog
    from dockyard.metadata.images import ImageRecords
    from dockyard.runtime.shim.zygote import ShimZygote
    from dockyard.service.containers.service import ContainerService
    from dockyard.service.images import ImageService
    from dockyard.service.networks import NetworkService
    from dockyard.service.volumes import VolumeService
    from dockyard.snapshot.protocol import Snapshotter

__all__ = ["Engine"]


class Engine:
    """The service layer's entry point: one per data root and process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # a long-lived engine (the daemon) sets a warm process that forks container shims
        self.shim_zygote: ShimZygote | None = None

    @cached_property
    def db(self) -> Database:
        from dockyard.metadata.db import Database

        self.settings.root.mkdir(parents=True, exist_ok=True)
        return Database(self.settings.root / "metadata.db")

    @cached_property
    def content(self) -> ContentStore:
        from dockyard.content.store import ContentStore

        return ContentStore(self.settings.root / "content")

    @cached_property
    def snapshotter(self) -> Snapshotter:
        from dockyard.snapshot.overlay import OverlaySnapshotter

        return OverlaySnapshotter(self.settings.root, self.db)

    @cached_property
    def image_records(self) -> ImageRecords:
        from dockyard.metadata.images import ImageRecords

        return ImageRecords(self.db)

    @cached_property
    def events(self) -> EventLog:
        from dockyard.metadata.events import EventLog

        return EventLog(self.db)

    @cached_property
    def images(self) -> ImageService:
        from dockyard.service.images import ImageService

        service = ImageService(self)
        # rmi refuses images that containers use (the container service answers lazily)
        service.users = lambda image_id: self.containers.users(image_id)
        return service

    @cached_property
    def containers(self) -> ContainerService:
        from dockyard.service.containers.service import ContainerService

        return ContainerService(self)

    @cached_property
    def volumes(self) -> VolumeService:
        from dockyard.service.containers.volumes_setup import volume_users
        from dockyard.service.volumes import VolumeService

        service = VolumeService(self)
        service.users = volume_users(self)  # `volume rm` refuses a volume a container uses
        return service

    @cached_property
    def networks(self) -> NetworkService:
        from dockyard.service.networks import NetworkService

        service = NetworkService(self)

        def reclaim() -> None:  # a container that exited unobserved gives its network back
            from dockyard.service.containers.networking import reclaim_exited

            reclaim_exited(self.containers)

        service.reclaim = reclaim
        return service

    def warm_shims(self) -> None:
        """For a long-lived engine: start the zygote that forks container shims (see
        ``runtime.shim.zygote``); starts then skip an interpreter per container. Without one
        (it could not start) shims are exec'd as the CLI does."""
        from dockyard.runtime.shim.zygote import ShimZygote

        if self.shim_zygote is None:
            try:
                self.shim_zygote = ShimZygote.start()
            except OSError:
                self.shim_zygote = None

    def close(self) -> None:
        """Stop what ``warm_shims`` started (running containers are not touched)."""
        if self.shim_zygote is not None:
            self.shim_zygote.close()
            self.shim_zygote = None

    @property
    def lock_dir(self):  # type: ignore[no-untyped-def]
        return self.settings.root / "locks"
