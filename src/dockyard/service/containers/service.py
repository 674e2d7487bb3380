"""``ContainerService``: the container operations of the Engine, one module per operation.

This class only binds the operations to one engine and holds what they share (records,
paths, events). See README.md in this package for the API other services build on.

Imports metadata and sibling modules (operations lazily); never cli/ or api/.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord, ContainerRecords
from dockyard.service.containers import names
from dockyard.service.containers.state import LiveState, read_live_state

if TYPE_CHECKING:
    from dockyard.runtime.logs import LogEntry
    from dockyard.runtime.shim.client import ShimInfo
    from dockyard.service.containers.create import CreateResult
    from dockyard.service.containers.exec import ExecStore
    from dockyard.service.engine import Engine

__all__ = ["ContainerService"]


class ContainerService:
    """Create, start, stop, kill, remove, wait, list, inspect containers and read their logs.

    Every method taking *ref* accepts an id, a unique id prefix or a name and raises
    NotFound (``No such container: REF``) when nothing matches.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.records = ContainerRecords(engine.db)
        self._root = str(engine.settings.root / "containers")
        self._died: set[str] = set()

    # -- shared helpers (for sibling modules and other services) ----------------------------
    def state_dir(self, container_id: str) -> str:
        """``<root>/containers/<id>``: the bundle, the shim's files and the log."""
        return f"{self._root}/{container_id}"

    def log_path(self, container_id: str) -> str:
        """The json-file log of *container_id*."""
        return f"{self.state_dir(container_id)}/{container_id}-json.log"

    @contextlib.contextmanager
    def locked(self, container_id: str) -> Iterator[None]:
        """Hold *container_id*'s lock (``flock`` on a file in its state dir) across processes:
        start, stop and remove of one container never interleave."""
        import fcntl

        sd = self.state_dir(container_id)
        os.makedirs(sd, mode=0o711, exist_ok=True)
        fd = os.open(f"{sd}/lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0 or not self.records.ids_with_prefix(container_id):
                if os.fstat(fd).st_nlink:  # removed before we made its dir again: undo that
                    import shutil

                    shutil.rmtree(sd, ignore_errors=True)
                raise errors.NotFound(f"No such container: {container_id}")
            yield
        finally:
            os.close(fd)

    def resolve(self, ref: str) -> ContainerRecord:
        """The record *ref* names. Raises NotFound, InvalidArgument (ambiguous prefix)."""
        return names.resolve(self.records, ref)

    def live(self, record: ContainerRecord) -> LiveState:
        """The live state of *record* (from its shim's files)."""
        return read_live_state(self.state_dir(record.id))

    def emit(
        self, action: str, record: ContainerRecord, extra: dict[str, str] | None = None
    ) -> None:
        """A ``container`` event with Docker's attributes (name, image, labels)."""
        attrs = {"name": record.name, "image": record.image}
        attrs.update({k: str(v) for k, v in (record.config.get("Labels") or {}).items()})
        attrs.update(extra or {})
        self.engine.events.emit("container", action, record.id, attrs)

    def emit_die(self, record: ContainerRecord) -> None:
        """The ``die`` event with the exit code, once per run (as this process sees it)."""
        live = self.live(record)
        key = f"{record.id}@{live.finished_at}"
        if key in self._died:
            return
        self._died.add(key)
        self.emit("die", record, {"exitCode": str(live.exit_code)})

    def users(self, image_id: str) -> list[tuple[str, bool]]:
        """The ``ImageService.users`` hook: (container id, running) created from *image_id*."""
        out = []
        for cid in self.records.using_image(image_id):
            try:
                out.append((cid, self.live(self.records.get(cid)).running))
            except errors.NotFound:
                continue
        return out

    # -- operations -------------------------------------------------------------------------
    def create(self, config: dict[str, Any], host_config: dict[str, Any] | None = None,
               name: str | None = None) -> CreateResult:  # fmt: skip
        """See ``create.create``."""
        from dockyard.service.containers.create import create

        return create(self, config, host_config, name)

    def start(
        self, ref: str, *, attach: bool = False, winsize: tuple[int, int] | None = None
    ) -> ShimInfo | None:
        """See ``start.start``."""
        from dockyard.service.containers.start import start

        record = self.resolve(ref)
        with self.locked(record.id):
            return start(self, record, attach=attach, winsize=winsize)

    def stop(self, ref: str, timeout: int | None = None) -> None:
        """See ``stop.stop``."""
        from dockyard.service.containers.stop import stop

        stop(self, self.resolve(ref), timeout)

    def kill(self, ref: str, signal: str | int = "KILL") -> None:
        """See ``stop.kill``."""
        from dockyard.service.containers.stop import kill

        kill(self, self.resolve(ref), signal)

    def restart(self, ref: str, timeout: int | None = None) -> None:
        """See ``stop.restart``."""
        from dockyard.service.containers.stop import restart

        restart(self, self.resolve(ref), timeout)

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        """See ``remove.remove``."""
        from dockyard.service.containers.remove import remove

        record = self.resolve(ref)
        with self.locked(record.id):
            remove(self, record, force, volumes)

    def prune(self, until: str | None = None, labels: list[str] | None = None) -> dict[str, Any]:
        """See ``remove.prune``."""
        from dockyard.service.containers.remove import prune

        return prune(self, until, labels)

    def wait(self, ref: str, condition: str = "not-running", timeout: float | None = None) -> int:
        """See ``wait.wait``."""
        from dockyard.service.containers.wait import wait

        return wait(self, self.resolve(ref), condition, timeout)

    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,
             last: int = -1) -> list[dict[str, Any]]:  # fmt: skip
        """See ``listing.list_containers``."""
        from dockyard.service.containers.listing import list_containers

        return list_containers(self, all, filters, last)

    def inspect(self, ref: str) -> dict[str, Any]:
        """See ``inspect.inspect``."""
        from dockyard.service.containers.inspect import inspect

        return inspect(self, self.resolve(ref))

    def logs(self, ref: str, *, follow: bool = False, tail: int | None = None,
             since: str | None = None, until: str | None = None) -> Iterator[LogEntry]:  # fmt: skip
        """See ``logs.logs``."""
        from dockyard.service.containers.logs import logs

        return logs(self, self.resolve(ref), follow=follow, tail=tail, since=since, until=until)

    # -- container tools (exec, top, pause, ...) ----------------------------------------------
    def exec_store(self) -> ExecStore:
        """The exec instances the API created in this process (``exec.ExecStore``)."""
        from dockyard.service.containers.exec import ExecStore

        store: ExecStore | None = self.__dict__.get("_exec_store")
        if store is None:
            store = self.__dict__["_exec_store"] = ExecStore()
        return store

    def exec(self, ref: str, args: Sequence[str], *, env: Sequence[str] = (),
             user: str | None = None, workdir: str | None = None,
             detach: bool = False) -> int:  # fmt: skip
        """Run *args* in running container *ref* with our stdio (no tty); its exit code.
        Must be called from a single-threaded process. See ``exec.prepare`` and ``exec.run``
        for what it raises."""
        from dockyard.service.containers import exec as ex

        record, process = ex.prepare(self, ref, [*args], env=[*env], user=user, workdir=workdir)
        return ex.run(self, record, process, detach=detach)

    def top(self, ref: str, ps_args: Sequence[str] = ()) -> dict[str, Any]:
        """See ``top.top``: ``{"Titles": [...], "Processes": [[...]]}`` with host PIDs."""
        from dockyard.service.containers.top import top

        return top(self, self.resolve(ref), ps_args)

    def pause(self, ref: str) -> None:
        """See ``pause.pause``."""
        from dockyard.service.containers.pause import pause

        pause(self, self.resolve(ref))

    def unpause(self, ref: str) -> None:
        """See ``pause.unpause``."""
        from dockyard.service.containers.pause import unpause

        unpause(self, self.resolve(ref))

    def rename(self, ref: str, new_name: str) -> None:
        """See ``rename.rename``."""
        from dockyard.service.containers.rename import rename

        rename(self, self.resolve(ref), new_name)

    def changes(self, ref: str) -> Sequence[dict[str, Any]]:
        """See ``changes.changes``: ``[{"Path": "/x", "Kind": 0 (C) | 1 (A) | 2 (D)}]``."""
        from dockyard.service.containers.changes import changes

        return changes(self, self.resolve(ref))

    def stat_path(self, ref: str, path: str) -> dict[str, Any]:
        """See ``copy.stat_path``: Docker's ``X-Docker-Container-Path-Stat`` of *path*."""
        from dockyard.service.containers.copy import stat_path

        return stat_path(self, self.resolve(ref), path)

    def archive(self, ref: str, path: str, out: IO[bytes]) -> dict[str, Any]:
        """See ``copy.archive``: a tar of container *path* written to *out*; its stat."""
        from dockyard.service.containers.copy import archive

        return archive(self, self.resolve(ref), path, out)

    def extract(self, ref: str, path: str, src: IO[bytes]) -> None:
        """See ``copy.extract``: the tar stream *src* unpacked into container dir *path*."""
        from dockyard.service.containers.copy import extract

        extract(self, self.resolve(ref), path, src)

    def commit(self, ref: str, repo: str | None = None, *, comment: str = "", author: str = "",
               changes: Sequence[str] = (), pause: bool = True) -> str:  # fmt: skip
        """See ``commit.commit``: a new image from *ref*'s changes; its id."""
        from dockyard.service.containers.commit import commit

        return commit(self, self.resolve(ref), repo, comment=comment, author=author,
                      changes=[*changes], pause=pause)  # fmt: skip

    def export(self, ref: str, out: BinaryIO) -> None:
        """See ``commit.export``: a tar of *ref*'s whole filesystem written to *out*."""
        from dockyard.service.containers.commit import export

        export(self, self.resolve(ref), out)

    def stats(self, ref: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """See ``stats.sample``: one ``/containers/{id}/stats`` document (``precpu_stats``
        from *previous*)."""
        from dockyard.service.containers.stats import sample

        return sample(self, self.resolve(ref), previous)

    def update(self, ref: str, changes: dict[str, Any]) -> Sequence[str]:
        """See ``update.update``: new limits (HostConfig keys) for *ref*; the warnings."""
        from dockyard.service.containers.update import update

        return update(self, self.resolve(ref), changes)
