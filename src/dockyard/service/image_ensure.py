"""Make sure an image is present before ``run``, ``create`` or ``build`` use it: ``--pull``.

The three policies, as Docker has them:

* ``missing`` (the default): use the local image; pull only when there is none (or, with a
  ``--platform``, when the local one is of another platform);
* ``always``: pull first (a no-op download when the registry has nothing newer);
* ``never``: never pull; a missing image is ``No such image: NAME``.

Before pulling a missing image Docker's ``run`` prints ``Unable to find image 'NAME' locally``
to stderr: the shells pass ``on_missing`` to print that line (``ensure_image`` only calls it).
The pull itself is ``service.registry.pull`` unless a test hands in another ``puller``.

Imports ``service.registry`` lazily (so a local image never loads the HTTP stack); no click,
no HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from dockyard import errors
from dockyard.oci import platform as platforms
from dockyard.oci import reference
from dockyard.registry.progress import ProgressFn, ignore

if TYPE_CHECKING:
    from dockyard.image.pull import PullResult
    from dockyard.metadata.images import ImageRecord
    from dockyard.service.engine import Engine

__all__ = ["POLICIES", "Puller", "ensure_image", "missing_message", "parse_policy"]

#: The values of ``--pull``.
POLICIES = ("always", "missing", "never")
#: ``--pull`` spellings Docker's ``build`` also takes (``--pull`` alone means always).
_ALIASES = {"true": "always", "false": "missing", "": "always"}


class Puller(Protocol):
    """``service.registry.pull``'s shape (what ``ensure_image`` calls to pull)."""

    def __call__(
        self,
        engine: Engine,
        name: str,
        *,
        platform: str | None = ...,
        on_progress: ProgressFn = ...,
    ) -> Sequence[PullResult]: ...


def parse_policy(value: str) -> str:
    """A ``--pull`` value, normalised (``true``/``false`` as ``build`` takes them).

    Raises InvalidArgument for anything else.
    """
    policy = _ALIASES.get(value.strip().lower(), value.strip().lower())
    if policy not in POLICIES:
        raise errors.InvalidArgument(
            f"invalid pull option: '{value}': must be one of "
            '"always", "missing" or "never"'
        )
    return policy


def display_name(name: str) -> str:
    """*name* as Docker shows it in these messages: familiar, with ``:latest`` added."""
    try:
        ref = reference.parse(name)
    except errors.InvalidArgument:
        return name
    return (ref if ref.digest else ref.with_default_tag()).familiar()


def missing_message(name: str) -> str:
    """The line ``docker run`` prints to stderr before pulling a missing image."""
    return f"Unable to find image '{display_name(name)}' locally"


def _platform_matches(engine: Engine, record: ImageRecord, wanted: platforms.Platform) -> bool:
    config = engine.images.config(record)
    fields = {"os": str(config.get("os", "")), "architecture": str(config.get("architecture", ""))}
    if config.get("variant"):
        fields["variant"] = str(config["variant"])
    return wanted.matches(fields)


def _local(engine: Engine, name: str, wanted: platforms.Platform | None) -> ImageRecord | None:
    try:
        record = engine.images.resolve(name)
    except errors.NotFound:
        return None
    if wanted is not None and not _platform_matches(engine, record, wanted):
        return None
    return record


def ensure_image(
    engine: Engine,
    name: str,
    pull: str = "missing",
    platform: str | None = None,
    on_progress: ProgressFn = ignore,
    *,
    on_missing: Callable[[str], None] | None = None,
    puller: Puller | None = None,
) -> ImageRecord:
    """The image *name* names, pulled first as the *pull* policy says.

    *on_missing* is called with ``missing_message(name)`` just before a missing image is
    pulled (the CLI prints it to stderr); *on_progress* gets the pull's progress events.

    Raises InvalidArgument (bad policy, reference or platform), NotFound (``No such image``
    with ``never``; or the registry has no such image), PermissionDenied, DigestMismatch,
    Unavailable (from the pull).
    """
    policy = parse_policy(pull)
    wanted = platforms.parse(platform) if platform else None
    if policy != "always":
        record = _local(engine, name, wanted)
        if record is not None:
            return record
        if policy == "never":
            raise errors.NotFound(f"No such image: {display_name(name)}")
        if on_missing is not None:
            on_missing(missing_message(name))
    if puller is None:
        from dockyard.service.registry import pull as default_puller

        puller = default_puller
    results = puller(engine, name, platform=platform, on_progress=on_progress)
    if not results:
        raise errors.NotFound(f"No such image: {display_name(name)}")
    try:
        return engine.images.resolve(results[0].image_id)
    except errors.NotFound as exc:
        raise errors.NotFound(
            f"No such image: {display_name(name)} (removed while it was being pulled)"
        ) from exc
