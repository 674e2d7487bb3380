"""The wire protocol against a fake registry (httpx.MockTransport): auth, retries, verification."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from dockyard import errors
from dockyard.oci import mediatypes
from dockyard.registry.client import RegistryClient
from dockyard.registry.credentials import Credentials
from dockyard.registry.hosts import Endpoint

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:" + "c" * 64, "size": 2},
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
BLOB = bytes(range(256)) * 40
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


class Sink:
    def __init__(self):
        self.data = bytearray()

    @property
    def offset(self):
        return len(self.data)

    def write(self, data):
        self.data += data
        return len(data)


def _stream(data: bytes):
    """A body that arrives over the "network" (bytes given directly count as already read)."""
    return iter([data[:1000], data[1000:]])


class FakeRegistry:
    """Bearer auth with a token service; optional failures injected per path."""

    def __init__(self, user=None):
        self.user = user
        self.requests: list[httpx.Request] = []
        self.fail_next: dict[str, list[int]] = {}
        self.cut_blob_once = False
        self.manifest = MANIFEST

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.url.host == "auth":
            if self.user and request.headers.get("authorization") != self.user:
                return httpx.Response(401)
            return httpx.Response(200, json={"token": "tok", "expires_in": 300})
        for status in self.fail_next.pop(path, []):
            return httpx.Response(status, headers={"retry-after": "0"})
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(
                401, headers={"www-authenticate": 'Bearer realm="http://auth/token",service="reg"'}
            )
        if path == "/v2/":
            return httpx.Response(200, json={})
        if path.startswith("/v2/lib/app/manifests/"):
            return httpx.Response(
                200,
                content=_stream(self.manifest),
                headers={
                    "content-type": mediatypes.OCI_MANIFEST,
                    "docker-content-digest": MANIFEST_DIGEST,
                },
            )
        if path == f"/v2/lib/app/blobs/{BLOB_DIGEST}":
            rng = request.headers.get("range")
            if rng:
                start = int(rng.split("=")[1].rstrip("-"))
                return httpx.Response(
                    206,
                    content=_stream(BLOB[start:]),
                    headers={"content-range": f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"},
                )
            if self.cut_blob_once:
                self.cut_blob_once = False

                def broken():
                    yield BLOB[:4000]
                    raise httpx.ReadError("connection reset by peer")

                return httpx.Response(200, content=broken())
            return httpx.Response(200, content=_stream(BLOB))
        return httpx.Response(
            404, json={"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
        )


def _client(fake, creds=None):
    sleeps = []
    client = RegistryClient(
        Endpoint("reg", "http", False),
        creds,
        transport=httpx.MockTransport(fake),
        sleep=sleeps.append,
    )
    return client, sleeps


def test_manifest_with_anonymous_token_and_accept_header():
    fake = FakeRegistry()
    client, _ = _client(fake)
    doc = client.get_manifest("lib/app", "latest")
    assert doc.digest == MANIFEST_DIGEST and doc.media_type == mediatypes.OCI_MANIFEST
    first = fake.requests[0]
    for media_type in (
        mediatypes.OCI_INDEX,
        mediatypes.DOCKER_MANIFEST_LIST,
        mediatypes.DOCKER_MANIFEST,
    ):
        assert media_type in first.headers["accept"]
    token_request = fake.requests[1]
    assert token_request.url.params.get_list("scope") == ["repository:lib/app:pull"]
    assert token_request.url.params["service"] == "reg"
    # the token is reused: one more request, no new token request
    client.get_manifest("lib/app", MANIFEST_DIGEST)
    assert [r.url.host for r in fake.requests].count("auth") == 1


def test_credentials_are_sent_to_the_token_service():
    fake = FakeRegistry(user="Basic " + "YWxpY2U6cHc=")
    client, _ = _client(fake, Credentials("alice", "pw"))
    client.get_manifest("lib/app", "latest")
    bad, _ = _client(FakeRegistry(user="Basic nope"), Credentials("alice", "pw"))
    with pytest.raises(errors.PermissionDenied, match="incorrect username or password"):
        bad.get_manifest("lib/app", "latest")


def test_manifest_digest_mismatch():
    fake = FakeRegistry()
    fake.manifest = MANIFEST.replace(b"schemaVersion", b"schemaVersion ")
    client, _ = _client(fake)
    with pytest.raises(errors.DigestMismatch, match="registry announced"):
        client.get_manifest("lib/app", "latest")
    with pytest.raises(errors.DigestMismatch):
        client.get_manifest("lib/app", MANIFEST_DIGEST)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retries_5xx_and_429_with_backoff(status):
    fake = FakeRegistry()
    client, sleeps = _client(fake)
    client.get_manifest("lib/app", "latest")  # learn the auth scheme and get a token
    fake.requests.clear()
    fake.fail_next["/v2/lib/app/manifests/latest"] = [status]
    assert client.get_manifest("lib/app", "latest").digest == MANIFEST_DIGEST
    assert len(fake.requests) == 2
    assert sleeps == [0.25]


def test_gives_up_after_retries():
    def always_down(request):
        return httpx.Response(503)

    client, sleeps = _client(always_down)
    with pytest.raises(errors.Unavailable, match="503"):
        client.get_manifest("lib/app", "latest")
    assert sleeps == [0.25, 0.5, 1.0, 2.0]


def test_connection_refused_is_unavailable():
    def refuse(request):
        raise httpx.ConnectError("connection refused")

    client, sleeps = _client(refuse)
    with pytest.raises(errors.Unavailable, match="connection refused"):
        client.ping()
    assert len(sleeps) == 4


def test_blob_download_resumes_with_range():
    fake = FakeRegistry()
    fake.cut_blob_once = True
    client, _ = _client(fake)
    sink = Sink()
    client.fetch_blob("lib/app", BLOB_DIGEST, sink, size=len(BLOB))
    assert bytes(sink.data) == BLOB
    ranges = [r.headers.get("range") for r in fake.requests if "/blobs/" in r.url.path]
    assert ranges[-1] == "bytes=4000-"


def test_not_found_names_the_object():
    client, _ = _client(FakeRegistry())
    with pytest.raises(errors.NotFound, match=r"other/repo.*repository name not known"):
        client.get_manifest("other/repo", "latest")


def test_blob_redirect_is_followed_without_credentials():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == "cdn":
            return httpx.Response(200, content=_stream(BLOB))
        if request.url.host == "auth":
            return httpx.Response(200, json={"token": "tok"})
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(401, headers={"www-authenticate": 'Bearer realm="http://auth/t"'})
        return httpx.Response(307, headers={"location": "http://cdn/signed/blob?sig=1"})

    client, _ = _client(handler)
    sink = Sink()
    client.fetch_blob("lib/app", BLOB_DIGEST, sink, size=len(BLOB))
    assert bytes(sink.data) == BLOB
    cdn = [r for r in seen if r.url.host == "cdn"]
    assert len(cdn) == 1 and "authorization" not in cdn[0].headers


def test_oversized_blob_is_refused():
    client, _ = _client(FakeRegistry())
    with pytest.raises(errors.DigestMismatch, match="more than the announced"):
        client.fetch_blob("lib/app", BLOB_DIGEST, Sink(), size=100)


def test_identity_token_uses_the_oauth_refresh_grant():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == "auth":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 300})
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(
                401, headers={"www-authenticate": 'Bearer realm="http://auth/t",service="reg"'}
            )
        return httpx.Response(200, json={})

    client, _ = _client(handler, Credentials("<token>", "refresh-me"))
    client.ping()
    [token_request] = [r for r in seen if r.url.host == "auth"]
    assert token_request.method == "POST"
    form = dict(x.split("=", 1) for x in token_request.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "refresh-me"
    assert form["service"] == "reg"
