"""ensure_image: the --pull policies of run/create/build, against a fake image store and puller."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from dockyard import errors
from dockyard.metadata.images import ImageRecord
from dockyard.registry.progress import Progress
from dockyard.service.image_ensure import ensure_image, missing_message, parse_policy

BUSYBOX = "docker.io/library/busybox:latest"


def _record(image_id: str) -> ImageRecord:
    return ImageRecord(id=image_id, manifest_digest="sha256:" + "m" * 64,
                       manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                       created="2024-01-01T00:00:00Z", added="2024-01-01T00:00:00Z")


@dataclass
class FakeImages:
    """Images by tag and by id; ``config`` gives each image's platform."""

    tags: dict[str, str] = field(default_factory=dict)
    arch: dict[str, str] = field(default_factory=dict)

    def resolve(self, name: str) -> ImageRecord:
        image_id = name if name.startswith("sha256:") else self.tags.get(_full(name))
        if image_id is None or image_id not in self.arch:
            raise errors.NotFound(f"No such image: {name}")
        return _record(image_id)

    def config(self, record: ImageRecord) -> dict[str, Any]:
        return {"os": "linux", "architecture": self.arch[record.id]}


def _full(name: str) -> str:
    from dockyard.oci import reference

    return str(reference.parse(name).with_default_tag())


@dataclass
class FakePuller:
    """Pulls by putting an image (of *arch*) under the name, as the real pull does."""

    images: FakeImages
    arch: str = "amd64"
    fail: Exception | None = None
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, engine: Any, name: str, *, platform: str | None = None,
                 on_progress: Any = None) -> list[Any]:
        self.calls.append((name, platform))
        if self.fail is not None:
            raise self.fail
        on_progress(Progress("Status: Downloaded newer image for busybox:latest"))
        image_id = "sha256:" + str(len(self.calls)) * 64
        self.images.tags[_full(name)] = image_id
        self.images.arch[image_id] = self.arch
        return [SimpleNamespace(image_id=image_id)]


@pytest.fixture
def images() -> FakeImages:
    return FakeImages()


def _engine(images: FakeImages) -> Any:
    return SimpleNamespace(images=images)


def _have(images: FakeImages, name: str, arch: str = "amd64") -> str:
    image_id = "sha256:" + "a" * 64
    images.tags[_full(name)] = image_id
    images.arch[image_id] = arch
    return image_id


def test_missing_uses_the_local_image_without_pulling(images: FakeImages) -> None:
    local = _have(images, "busybox")
    puller, said = FakePuller(images), list[str]()
    record = ensure_image(_engine(images), "busybox", on_missing=said.append, puller=puller)
    assert record.id == local
    assert puller.calls == [] and said == []


def test_missing_announces_then_pulls_an_absent_image(images: FakeImages) -> None:
    puller, said, events = FakePuller(images), list[str](), list[Progress]()
    record = ensure_image(_engine(images), "busybox", on_progress=events.append,
                          on_missing=said.append, puller=puller)
    assert said == ["Unable to find image 'busybox:latest' locally"]
    assert puller.calls == [("busybox", None)]
    assert record.id == images.tags[BUSYBOX]
    assert events[-1].status.startswith("Status: Downloaded newer image")


def test_never_refuses_an_absent_image_without_pulling(images: FakeImages) -> None:
    puller, said = FakePuller(images), list[str]()
    with pytest.raises(errors.NotFound, match=r"^No such image: busybox:latest$"):
        ensure_image(_engine(images), "busybox", "never", on_missing=said.append, puller=puller)
    assert puller.calls == [] and said == []


def test_never_uses_a_local_image(images: FakeImages) -> None:
    local = _have(images, "alpine:3.19")
    assert ensure_image(_engine(images), "alpine:3.19", "never", puller=FakePuller(images)).id == local


def test_always_pulls_even_when_present_and_returns_the_new_image(images: FakeImages) -> None:
    old = _have(images, "busybox")
    puller, said = FakePuller(images), list[str]()
    record = ensure_image(_engine(images), "busybox", "always", on_missing=said.append, puller=puller)
    assert puller.calls == [("busybox", None)]
    assert said == []  # the line is for missing images only
    assert record.id != old and record.id == images.tags[BUSYBOX]


def test_a_local_image_of_another_platform_is_pulled_for_that_platform(images: FakeImages) -> None:
    _have(images, "busybox", arch="amd64")
    puller = FakePuller(images, arch="arm64")
    record = ensure_image(_engine(images), "busybox", platform="linux/arm64", puller=puller)
    assert puller.calls == [("busybox", "linux/arm64")]
    assert images.config(record)["architecture"] == "arm64"


def test_a_failed_pull_propagates(images: FakeImages) -> None:
    puller = FakePuller(images, fail=errors.NotFound("manifest for busybox:nope: not found"))
    said: list[str] = []
    with pytest.raises(errors.NotFound, match="manifest for busybox:nope"):
        ensure_image(_engine(images), "busybox:nope", on_missing=said.append, puller=puller)
    assert said == ["Unable to find image 'busybox:nope' locally"]


def test_policy_values() -> None:
    assert [parse_policy(v) for v in ("always", "MISSING", "never", "true", "false")] == [
        "always", "missing", "never", "always", "missing"]
    with pytest.raises(errors.InvalidArgument, match="invalid pull option: 'sometimes'"):
        parse_policy("sometimes")


def test_missing_message_names_the_familiar_reference() -> None:
    assert missing_message("docker.io/library/busybox") == "Unable to find image 'busybox:latest' locally"
    assert missing_message("127.0.0.1:5000/a/b:2") == "Unable to find image '127.0.0.1:5000/a/b:2' locally"
