"""Volumes through the API: create, list with filters, inspect, remove, prune, system df."""

from __future__ import annotations

import json

from api_testclient import Api


def test_create_list_inspect_remove(api: Api) -> None:
    made = api.post("/v1.50/volumes/create", json={"Name": "data", "Labels": {"app": "web"}})
    assert made.status == 201
    doc = made.json()
    assert doc["Name"] == "data" and doc["Driver"] == "local" and doc["Labels"] == {"app": "web"}
    assert doc["Mountpoint"].startswith(str(api.engine.settings.root))
    anonymous = api.post("/volumes/create", json={}).json()["Name"]
    assert len(anonymous) == 64
    names = {v["Name"] for v in api.get("/volumes").json()["Volumes"]}
    assert names == {"data", anonymous}
    by_label = api.get("/volumes", params={"filters": json.dumps({"label": {"app=web": True}})})
    assert [v["Name"] for v in by_label.json()["Volumes"]] == ["data"]
    assert api.get("/volumes/data").json() == doc
    assert api.delete("/volumes/data").status == 204
    missing = api.get("/volumes/data")
    assert missing.status == 404 and "no such volume" in missing.json()["message"]
    assert api.post("/volumes/create", json={"Name": "x"}).status == 400  # too short a name


def test_prune_takes_anonymous_volumes_unless_all(api: Api) -> None:
    api.post("/volumes/create", json={"Name": "named"})
    anonymous = api.post("/volumes/create", json={}).json()["Name"]
    pruned = api.post("/volumes/prune").json()
    assert pruned["VolumesDeleted"] == [anonymous]
    everything = api.post("/volumes/prune", params={"filters": json.dumps({"all": ["true"]})})
    assert everything.json()["VolumesDeleted"] == ["named"]
    assert api.get("/volumes").json()["Volumes"] == []


def test_system_df_lists_volumes_with_usage(api: Api) -> None:
    api.post("/volumes/create", json={"Name": "data"})
    [volume] = api.get("/system/df").json()["Volumes"]
    assert volume["Name"] == "data"
    assert volume["UsageData"] == {"Size": 0, "RefCount": 0}
