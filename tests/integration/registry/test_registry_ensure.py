"""ensure_image with the real pull: --pull missing/never/always against a real registry."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.image.push import push as push_image
from dockyard.oci import reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.hosts import Endpoint
from dockyard.service.engine import Engine
from dockyard.service.image_ensure import ensure_image
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root


def _engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("dockyard-test-root")
    return Engine(Settings(root=root, exec_root=root / "run"))


def test_pull_policies_against_a_registry(registry, builders, docker_config, tmp_path_factory):
    src = _engine(tmp_path_factory)
    image = builders.image(src.content, [{"etc/motd": b"hi\n"}])
    name = f"{registry.host}/ensure/app:1"
    with RegistryClient(Endpoint(registry.host, "http", False)) as client:
        push_image(client, reference.parse(name), image.manifest_digest, src.content)

    eng = _engine(tmp_path_factory)
    with pytest.raises(errors.NotFound, match=f"^No such image: {name}$"):
        ensure_image(eng, name, "never")
    said: list[str] = []
    events = []
    record = ensure_image(eng, name, on_missing=said.append, on_progress=events.append)
    assert record.id == image.config_digest
    assert said == [f"Unable to find image '{name}' locally"]
    assert events[-1].status == f"Status: Downloaded newer image for {name}"
    # Present now: missing and never use it; always asks the registry, which has nothing newer.
    assert ensure_image(eng, name, on_missing=said.append).id == image.config_digest
    assert ensure_image(eng, name, "never").id == image.config_digest
    events.clear()
    assert ensure_image(eng, name, "always", on_progress=events.append).id == image.config_digest
    assert events[-1].status == f"Status: Image is up to date for {name}"
    assert len(said) == 1
