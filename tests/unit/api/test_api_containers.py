"""Container routes that need no running process: create, list, inspect, remove, errors."""

from __future__ import annotations

from api_testclient import Api

from _helpers import images as helpers


def test_create_list_inspect_remove(api: Api, loaded: helpers.TestImage) -> None:
    made = api.post("/v1.50/containers/create", params={"name": "web"},
                    json={"Image": "busybox", "Cmd": ["sh", "-c", "true"], "Labels": {"a": "b"},
                          "HostConfig": {"NetworkMode": "none"}})
    assert made.status == 201, made.body
    cid = made.json()["Id"]
    assert made.json()["Warnings"] == []
    assert api.get("/containers/json").json() == []  # created, not running
    [row] = api.get("/containers/json", params={"all": "1"}).json()
    assert (row["Id"], row["Names"], row["State"], row["Labels"]) == (cid, ["/web"], "created",
                                                                  {"tier": "web", "a": "b"})
    filtered = api.get("/containers/json", params={"all": "1", "filters": '{"label": ["a=c"]}'})
    assert filtered.json() == []
    doc = api.get("/containers/web/json").json()
    assert doc["Id"] == cid and doc["Name"] == "/web" and doc["State"]["Status"] == "created"
    assert doc["Config"]["Cmd"] == ["sh", "-c", "true"]
    # the image is in use now
    assert api.delete("/images/busybox:latest").status == 200  # another tag still names it
    assert api.delete(f"/images/{loaded.id}").status == 409
    info = api.get("/info").json()
    assert (info["Containers"], info["ContainersRunning"], info["ContainersStopped"]) == (1, 0, 1)
    assert [c["Id"] for c in api.get("/system/df").json()["Containers"]] == [cid]
    assert api.delete("/containers/web").status == 204
    assert api.get("/containers/web/json").status == 404


def test_container_errors(api: Api, loaded: helpers.TestImage) -> None:
    assert api.post("/containers/create", json={"Image": "nosuch:1"}).status == 404
    assert api.post("/containers/create", json={}).status == 400
    assert api.post("/containers/create", data=b"{not json").status == 400
    assert api.post("/containers/nosuch/start").status == 404
    missing = api.post("/containers/nosuch/wait")
    assert (missing.status, missing.json()) == (404, {"message": "No such container: nosuch"})
    api.post("/containers/create", params={"name": "cc"}, json={"Image": "busybox", "Cmd": ["true"]})
    assert api.get("/containers/cc/logs").status == 400  # neither stdout nor stderr chosen
    assert api.post("/containers/create", params={"name": "cc"},
                    json={"Image": "busybox", "Cmd": ["true"]}).status == 409
