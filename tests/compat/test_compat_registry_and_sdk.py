"""``docker push``/``docker pull`` through the daemon against a real registry, and the docker
Python SDK driving the same daemon."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

from compat_daemon import Daemon, Registry

from _helpers.images import docker_archive, image


def _archive(tmp_path: Path, tag: str = "busybox:latest") -> Path:
    img = image([[("etc/", None), ("etc/hello", b"hi")], [("data", b"y" * 70000)]],
                tags=[tag], compress=True)
    path = tmp_path / "image.tar"
    path.write_bytes(docker_archive([img]))
    return path


def test_push_then_pull_through_the_daemon(daemon: Daemon, local_registry: Registry,
                                           tmp_path: Path) -> None:
    daemon.docker("load", "-i", str(_archive(tmp_path)))
    name = f"{local_registry.host}/compat/app:v1"
    daemon.docker("tag", "busybox", name)
    image_id = daemon.docker("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()
    pushed = daemon.docker("push", name).stdout
    assert f"The push refers to repository [{local_registry.host}/compat/app]" in pushed
    assert "v1: digest: sha256:" in pushed
    digest = pushed.split("v1: digest: ")[1].split()[0]
    daemon.docker("rmi", name, "busybox")
    assert daemon.docker("images", "-q").stdout.strip() == ""
    pulled = daemon.docker("pull", name).stdout
    assert f"Digest: {digest}" in pulled
    assert f"Status: Downloaded newer image for {name}" in pulled
    assert pulled.strip().endswith(name)
    doc = json.loads(daemon.docker("image", "inspect", name).stdout)[0]
    assert doc["Id"] == image_id  # the same image came back
    assert doc["RepoDigests"] == [f"{local_registry.host}/compat/app@{digest}"]
    # the dockyard CLI sees the pulled image, digest and all
    ours = json.loads(daemon.dockyard("inspect", name).stdout)[0]
    assert ours["Id"] == image_id and ours["RepoDigests"] == doc["RepoDigests"]
    again = daemon.docker("pull", name).stdout
    assert f"Status: Image is up to date for {name}" in again
    repo = f"{local_registry.host}/compat/app"
    daemon.docker("tag", name, f"{repo}:v2")
    daemon.docker("push", f"{repo}:v2")
    daemon.docker("rmi", name, f"{repo}:v2")
    daemon.docker("pull", "--all-tags", repo)  # no tag: the API pulls every tag
    assert {r["Tag"] for r in daemon.docker_json("images", repo)} == {"v1", "v2"}
    client = daemon.sdk()  # the SDK's pull and push take the same routes
    try:
        daemon.docker("rmi", f"{repo}:v2")
        assert client.images.pull(repo, tag="v2").id == image_id
        lines = list(client.images.push(repo, tag="v2", stream=True, decode=True))
        assert lines[-1]["aux"]["Digest"] == digest  # same image, same manifest
    finally:
        client.close()
    missing = daemon.docker("pull", f"{local_registry.host}/compat/nosuch:v1", check=False)
    assert missing.returncode == 1 and "compat/nosuch:v1: not found" in missing.stderr


def test_login_and_push_with_credentials(daemon: Daemon, auth_registry: Registry,
                                         tmp_path: Path) -> None:
    """``docker login`` checks through ``POST /auth``; push and pull carry X-Registry-Auth."""
    daemon.docker("load", "-i", str(_archive(tmp_path)))
    name = f"{auth_registry.host}/private/app:v1"
    daemon.docker("tag", "busybox", name)
    refused = daemon.docker("push", name, check=False)
    assert refused.returncode == 1
    wrong = daemon.docker("login", "-u", "alice", "--password-stdin", auth_registry.host,
                          check=False, input="queen\n")
    assert wrong.returncode == 1 and "Error response from daemon" in wrong.stderr
    assert not (Path(daemon.env["DOCKER_CONFIG"]) / "config.json").exists() or \
        auth_registry.host not in (Path(daemon.env["DOCKER_CONFIG"]) / "config.json").read_text()
    ok = daemon.docker("login", "-u", "alice", "--password-stdin", auth_registry.host,
                       input="wonderland\n")
    assert "Login Succeeded" in ok.stdout
    assert "v1: digest: sha256:" in daemon.docker("push", name).stdout
    daemon.docker("rmi", name)
    assert "Status: Image is up to date" not in daemon.docker("pull", name).stdout
    assert list(daemon.own_config.iterdir()) == []  # the daemon stored no login of its own


def test_the_python_sdk(daemon: Daemon, tmp_path: Path) -> None:
    client = daemon.sdk()
    try:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == "1.50"
        since = time.time()
        [loaded] = client.images.load(_archive(tmp_path).read_bytes())
        assert loaded.tags == ["busybox:latest"]
        img = client.images.get("busybox")
        assert img.id == loaded.id
        assert img.tag("sdk/tagged", "one") is True
        assert sorted(client.images.get(img.id).tags) == ["busybox:latest", "sdk/tagged:one"]
        assert [i.id for i in client.images.list(filters={"reference": "sdk/*"})] == [img.id]
        saved = b"".join(img.save(named=True))
        with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
            assert "manifest.json" in tar.getnames()
        client.images.remove("sdk/tagged:one")
        assert client.images.get("busybox").tags == ["busybox:latest"]
        assert client.df()["Images"][0]["Id"] == img.id
        events = list(client.events(since=since, until=time.time() + 0.5, decode=True))
        assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in events] == [
            ("load", "busybox:latest"), ("tag", "sdk/tagged:one"), ("untag", "sdk/tagged:one")]
        client.images.remove("busybox")
        assert client.images.list() == []
        client.images.load(saved)
        assert client.images.get("busybox").id == img.id
    finally:
        client.close()
