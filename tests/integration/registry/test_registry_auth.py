"""Logging in and moving images through registries that want credentials (basic, bearer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.oci import reference
from dockyard.service import registry as service
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root

USER, PASSWORD = "alice", "wonderland"


def _engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("dockyard-test-root")
    return Engine(Settings(root=root, exec_root=root / "run"))


def _local_image(engine: Engine, builders, name: str, files: dict[str, bytes]):
    image = builders.image(engine.content, [files])
    engine.images.register(image.manifest_digest, ref=reference.parse(name).with_default_tag())
    return image


def _stored(docker_config: Path) -> dict:
    path = docker_config / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.parametrize("kind", ["basic_registry", "token_registry"])
def test_login_push_pull_logout(kind, request, builders, docker_config, tmp_path_factory):
    reg = request.getfixturevalue(kind)
    src = _engine(tmp_path_factory)
    name = f"{reg.host}/private/app:1"
    image = _local_image(src, builders, name, {"secret": b"data"})

    with pytest.raises(errors.PermissionDenied):
        service.push(src, name)
    with pytest.raises(errors.PermissionDenied, match="incorrect username or password"):
        service.login(src, reg.host, USER, "wrong")
    assert reg.host not in _stored(docker_config).get("auths", {})

    assert service.login(src, reg.host, USER, PASSWORD) == reg.host
    assert reg.host in _stored(docker_config)["auths"]
    service.push(src, name)

    dst = _engine(tmp_path_factory)
    [pulled] = service.pull(dst, name)
    assert pulled.image_id == image.config_digest

    assert service.logout(reg.host)
    assert reg.host not in _stored(docker_config)["auths"]
    other = _engine(tmp_path_factory)
    with pytest.raises(errors.PermissionDenied, match="pull access denied for"):
        service.pull(other, name)


def test_anonymous_token_pulls_public_repository(
    token_registry, builders, docker_config, tmp_path_factory
):
    src = _engine(tmp_path_factory)
    name = f"{token_registry.host}/public/tool:1"
    image = _local_image(src, builders, name, {"tool": b"tool"})
    service.login(src, token_registry.host, USER, PASSWORD)
    service.push(src, name)
    service.logout(token_registry.host)

    issuer = token_registry.issuer
    issuer.requests.clear()
    dst = _engine(tmp_path_factory)
    [pulled] = service.pull(dst, name)
    assert pulled.image_id == image.config_digest
    # One token for the repository serves the manifest and every blob request.
    assert issuer.requests == [{"account": "", "scopes": ["repository:public/tool:pull"]}]


def test_cross_repository_mount(token_registry, builders, docker_config, tmp_path_factory):
    src = _engine(tmp_path_factory)
    service.login(src, token_registry.host, USER, PASSWORD)
    first = f"{token_registry.host}/team/base:1"
    image = _local_image(src, builders, first, {"base": b"base layer"})
    service.push(src, first)
    second = f"{token_registry.host}/team/derived:1"
    src.images.tag(first, second)

    token_registry.issuer.requests.clear()
    events = []
    service.push(src, second, on_progress=events.append)
    layer = image.layers[0].split(":")[1][:12]
    assert any(e.id == layer and e.status == "Mounted from team/base" for e in events)
    scopes = [s for r in token_registry.issuer.requests for s in r["scopes"]]
    assert "repository:team/base:pull" in scopes


def test_login_to_an_open_registry_and_push_of_a_missing_image(
    registry, docker_config, tmp_path_factory
):
    engine = _engine(tmp_path_factory)
    assert service.login(engine, f"http://{registry.host}/", "anyone", "pw") == registry.host
    assert registry.host in _stored(docker_config)["auths"]
    with pytest.raises(errors.NotFound, match="An image does not exist locally with the tag"):
        service.push(engine, f"{registry.host}/nothing/here:1")
