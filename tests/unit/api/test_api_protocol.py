"""Version negotiation, ping, error shapes: what the docker CLI relies on before anything else."""

from __future__ import annotations

import pytest
from api_testclient import Api

from dockyard import errors
from dockyard.api import _params, versions
from dockyard.api._event_filter import EventFilter
from dockyard.metadata.events import Event


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ping_headers(api: Api, method: str) -> None:
    reply = api.request(method, "/_ping")
    assert reply.status == 200
    assert reply.headers["API-Version"] == versions.MAX_API_VERSION == "1.50"
    assert reply.headers["Ostype"] == "linux"
    assert reply.headers["Docker-Experimental"] == "false"
    assert reply.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert reply.headers["Pragma"] == "no-cache"
    assert reply.headers["Builder-Version"] == "1"  # docker build uses POST /build, not BuildKit
    assert reply.body == (b"OK" if method == "GET" else b"")


@pytest.mark.parametrize("prefix", ["", "/v1.24", "/v1.41", "/v1.50"])
def test_every_route_with_and_without_version_prefix(api: Api, prefix: str) -> None:
    assert api.get(f"{prefix}/_ping").body == b"OK"
    assert api.get(f"{prefix}/images/json").json() == []
    assert api.get(f"{prefix}/version").json()["ApiVersion"] == "1.50"


def test_too_old_and_too_new_versions_are_refused_with_dockers_messages(api: Api) -> None:
    old = api.get("/v1.12/version")
    assert old.status == 400
    assert old.json() == {"message": "client version 1.12 is too old. Minimum supported API "
                          "version is 1.24, please upgrade your client to a newer version"}
    new = api.get("/v1.51/images/json")
    assert new.status == 400
    assert "Maximum supported API version is 1.50" in new.json()["message"]


def test_errors_are_json_messages_with_the_categorys_status(api: Api) -> None:
    missing = api.get("/images/nosuch/json")
    assert (missing.status, missing.json()) == (404, {"message": "No such image: nosuch:latest"})
    assert missing.headers["Content-Type"] == "application/json"  # exactly: docker reads it so
    bad = api.get("/images/json", params={"filters": "{not json"})
    assert bad.status == 400 and bad.json()["message"].startswith("invalid filters")
    unknown = api.get("/v1.50/no/such/route")
    assert (unknown.status, unknown.json()) == (404, {"message": "page not found"})
    assert api.get("/images/json", params={"filters": '{"colour": ["red"]}'}).status == 400


def test_version_and_info_describe_the_daemon(api: Api) -> None:
    version = api.get("/v1.50/version").json()
    assert version["MinAPIVersion"] == "1.24" and version["Os"] == "linux"
    assert version["Components"][0]["Name"] == "Engine"
    info = api.get("/v1.50/info").json()
    assert info["Images"] == 0 and info["OSType"] == "linux"
    assert info["DockerRootDir"] == str(api.engine.settings.root)
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert api.get("/containers/json").json() == []


def test_filters_param_accepts_map_and_list_forms() -> None:
    assert _params.filters('{"label": {"a=b": true, "c": false}}') == {"label": ["a=b"]}
    assert _params.filters('{"dangling": ["true"]}') == {"dangling": ["true"]}
    with pytest.raises(errors.InvalidArgument):
        _params.filters('["label"]')


def test_timestamps_and_booleans() -> None:
    assert _params.timestamp_nano("1700000000.5") == 1_700_000_000_500_000_000
    assert _params.timestamp_nano("1700000000") == 1_700_000_000_000_000_000
    with pytest.raises(errors.InvalidArgument):
        _params.timestamp_nano("yesterday")
    assert _params.boolean("1") and _params.boolean("true") and not _params.boolean("0")
    assert not _params.boolean("false") and not _params.boolean(None)
    assert _params.rfc3339_to_unix("2024-01-01T00:00:00.123456789Z") == 1704067200


def _event(type_: str, action: str, actor: str, **attrs: str) -> Event:
    return Event(1, 0, type_, action, actor, attrs)


def test_event_filters_match_like_dockerd() -> None:
    tag = _event("image", "tag", "sha256:abc", name="busybox:latest")
    start = _event("container", "start", "c0ffee", name="web", image="busybox:latest")
    assert EventFilter({"type": ["image"]}).match(tag)
    assert not EventFilter({"type": ["image"]}).match(start)
    assert EventFilter({"image": ["busybox"]}).match(tag)  # tag stripped
    assert EventFilter({"image": ["busybox:latest"]}).match(start)
    assert EventFilter({"container": ["c0f"]}).match(start)  # id prefix
    assert EventFilter({"container": ["web"]}).match(start)
    assert not EventFilter({"container": ["web"]}).match(tag)
    assert EventFilter({"event": ["tag", "untag"]}).match(tag)
    assert not EventFilter({"event": ["untag"]}).match(tag)
    assert EventFilter({"label": ["name=web"]}).match(start)
    with pytest.raises(errors.InvalidArgument):
        EventFilter({"colour": ["red"]})
