"""Images through the API: load, list, inspect, tag, remove, history, save, import, prune."""

from __future__ import annotations

import io
import json
import tarfile
import time

from api_testclient import Api

from _helpers import images as helpers
from _helpers.images import docker_archive, image, layer_tar
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings


def test_load_answers_dockers_stream_lines(api: Api, sample: helpers.TestImage) -> None:
    reply = api.post("/v1.50/images/load?quiet=1", data=docker_archive([sample]))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.lines() == [{"stream": "Loaded image: busybox:latest\n"},
                             {"stream": "Loaded image: example.com/app:1.0\n"}]


def test_a_malformed_archive_is_a_400_and_leaves_nothing(api: Api) -> None:
    reply = api.post("/images/load", data=b"this is not a tar archive" * 100)
    assert reply.status == 400
    assert "archive" in reply.json()["message"]
    assert api.get("/images/json").json() == []


def test_list_has_one_entry_per_image_with_all_its_tags(api: Api, loaded: helpers.TestImage) -> None:
    [summary] = api.get("/v1.50/images/json").json()
    assert summary["Id"] == loaded.id
    assert sorted(summary["RepoTags"]) == ["busybox:latest", "example.com/app:1.0"]
    assert summary["Created"] == 1704067200  # 2024-01-01T00:00:00Z
    assert summary["Labels"] == {"tier": "web"}
    assert summary["Size"] > 5000
    assert "VirtualSize" not in summary  # gone since API 1.44
    assert api.get("/v1.41/images/json").json()[0]["VirtualSize"] == summary["Size"]
    by_label = api.get("/images/json", params={"filters": json.dumps({"label": ["tier=db"]})})
    assert by_label.json() == []
    by_ref = api.get("/images/json", params={"filters": json.dumps({"reference": {"busybox": True}})})
    assert by_ref.json()[0]["RepoTags"] == ["busybox:latest"]


def test_inspect_and_history(api: Api, loaded: helpers.TestImage) -> None:
    doc = api.get("/v1.50/images/busybox/json").json()
    assert doc["Id"] == loaded.id
    assert doc["RootFS"]["Layers"] == loaded.diff_ids
    assert api.get(f"/images/{loaded.id[7:19]}/json").json()["Id"] == loaded.id  # short id
    # a name with a slash and a registry port-less domain routes to the same image
    assert api.get("/images/example.com/app:1.0/json").json()["Id"] == loaded.id
    rows = api.get("/images/busybox:latest/history").json()
    assert [r["CreatedBy"] for r in rows] == ["layer 1", "layer 0"]
    assert rows[0]["Id"] == loaded.id and rows[0]["Created"] == 1704067200


def test_tag_then_remove(api: Api, loaded: helpers.TestImage) -> None:
    assert api.post("/images/busybox/tag", params={"repo": "my/app", "tag": "v1"}).status == 201
    assert api.get("/images/my/app:v1/json").json()["Id"] == loaded.id
    assert api.post("/images/nosuch/tag", params={"repo": "x"}).status == 404
    assert api.post("/images/busybox/tag").status == 400  # no repo
    assert api.delete("/images/my/app:v1").json() == [{"Untagged": "my/app:v1"}]
    # by id with two tags left: Docker's conflict, unless forced
    conflict = api.delete(f"/images/{loaded.id}")
    assert conflict.status == 409 and "must be forced" in conflict.json()["message"]
    removed = api.delete(f"/images/{loaded.id}", params={"force": "1"}).json()
    assert {"Deleted": loaded.id} in removed
    assert {"Untagged": "busybox:latest"} in removed
    assert api.get("/images/json").json() == []
    assert api.delete("/images/busybox").status == 404


def test_save_streams_an_archive_that_loads_elsewhere(api: Api, loaded: helpers.TestImage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    reply = api.get("/v1.50/images/busybox:latest/get")
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(reply.body)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    many = api.get("/images/get", params=[("names", "busybox"), ("names", "example.com/app:1.0")])
    with tarfile.open(fileobj=io.BytesIO(many.body)) as tar:
        tags = [t for m in json.load(tar.extractfile("manifest.json")) for t in m["RepoTags"]]  # type: ignore[arg-type]
    assert sorted(tags) == ["busybox:latest", "example.com/app:1.0"]
    assert api.get("/images/nosuch/get").status == 404  # an error before any byte is a status
    other = Api(Engine(Settings.resolve(tmp_path / "dockyard-test-root-other")))
    try:
        assert other.post("/images/load", data=reply.body).lines() == [
            {"stream": "Loaded image: busybox:latest\n"}]
        assert other.get("/images/busybox/json").json()["Id"] == loaded.id
    finally:
        other.close()


def test_import_from_the_body(api: Api) -> None:
    rootfs = layer_tar([("bin/", None), ("bin/tool", b"#!/bin/sh\n")])
    reply = api.post("/images/create", params=[("fromSrc", "-"), ("repo", "imported"),
                                               ("tag", "v2"), ("message", "hello"),
                                               ("changes", "CMD [\"/bin/tool\"]")], data=rootfs)
    assert reply.status == 200, reply.body
    image_id = reply.json()["status"]
    doc = api.get("/images/imported:v2/json").json()
    assert doc["Id"] == image_id
    assert doc["Config"]["Cmd"] == ["/bin/tool"]
    assert doc["Comment"] == "hello"
    assert api.post("/images/create", params={"fromSrc": "http://example.com/x.tar"}).status == 400


def test_prune_removes_dangling_images_only_unless_dangling_false(api: Api, loaded: helpers.TestImage) -> None:
    lone = image([[("only", b"me")]])
    api.post("/images/load", data=docker_archive([lone]))
    pruned = api.post("/images/prune").json()
    assert pruned["ImagesDeleted"] == [{"Deleted": lone.id}]
    assert pruned["SpaceReclaimed"] > 0
    assert len(api.get("/images/json").json()) == 1
    everything = api.post("/images/prune", params={"filters": json.dumps({"dangling": ["false"]})})
    assert {"Deleted": loaded.id} in everything.json()["ImagesDeleted"]
    assert api.get("/images/json").json() == []


def test_system_df_counts_images_like_the_cli(api: Api, loaded: helpers.TestImage) -> None:
    from dockyard.service.system import disk_usage

    df = api.get("/system/df").json()
    assert df["LayersSize"] == disk_usage(api.engine)[0].size > 0
    assert [i["Id"] for i in df["Images"]] == [loaded.id]
    assert df["Containers"] == [] and df["Volumes"] == []


def test_events_show_what_another_process_did(api: Api, loaded: helpers.TestImage) -> None:
    """The log is shared: an Engine of its own (as a CLI process has) emits, the stream shows it."""
    start = time.time()
    cli_engine = Engine(api.engine.settings)
    cli_engine.images.tag("busybox", "from-the-cli:1")
    until = f"{time.time() + 0.3:.9f}"
    reply = api.get("/v1.50/events", params={"since": f"{start:.9f}", "until": until,
                                             "filters": json.dumps({"event": ["tag"]})})
    events = reply.lines()
    assert [e["Actor"]["Attributes"]["name"] for e in events] == ["from-the-cli:1"]
    assert events[0]["Type"] == "image" and events[0]["id"] == loaded.id
    replayed = api.get("/events", params={"until": until}).lines()  # until alone replays too
    assert [e["Action"] for e in replayed] == ["load", "tag", "tag"]
    untagged = api.get("/events", params={"since": "0", "until": until,
                                          "filters": json.dumps({"type": ["container"]})})
    assert untagged.lines() == []


def test_search_is_empty_and_auth_needs_credentials(api: Api) -> None:
    assert api.get("/images/search", params={"term": "busybox"}).json() == []
    assert api.post("/auth", json={"serveraddress": "127.0.0.1:1"}).status == 400


def test_an_abandoned_event_stream_stops(api: Api) -> None:
    """A client that closes its ``/events`` stream is no longer a listener (nothing keeps polling)."""
    import asyncio

    async def open_and_close() -> None:
        resp = await api._client.get("/events")
        assert resp.status == 200
        resp.close()
        await asyncio.sleep(3 * 0.15)

    api._runner.run(open_and_close())
    assert api.get("/info").json()["NEventsListener"] == 0
