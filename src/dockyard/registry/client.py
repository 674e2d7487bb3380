"""The distribution wire protocol against one registry endpoint, over httpx.

``RegistryClient`` speaks ``/v2/``: manifests (negotiated with ``Accept``, verified against
their digest), tags, blob existence, downloads (redirects followed, resumed with ``Range``
after a broken connection, every byte written through a content-store writer that verifies
the digest at commit), uploads (monolithic or chunked), cross-repository mounts and manifest
puts. Authorization is ``auth.Authorizer``'s job; this module performs its token requests.

Transient failures (connection errors, 429 and 5xx) are retried with exponential backoff.
Errors leave as DockyardError categories: NotFound, PermissionDenied, DigestMismatch,
InvalidArgument, Unavailable.

Imports httpx (the only module of this package that does). Must not import image/, service/
or the shells.
"""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable
from typing import BinaryIO, NoReturn, Protocol

from dockyard import errors
from dockyard.oci import digest as digests
from dockyard.registry.auth import Authorizer, Token
from dockyard.registry.challenge import Challenge, parse_challenges, repository_scope
from dockyard.registry.credentials import Credentials
from dockyard.registry.hosts import Endpoint
from dockyard.registry.manifest import ACCEPT, Document, parse_document


def _skip_httpx_cli() -> None:
    """``import httpx`` also imports its command-line client (rich, pygments, click): ~0.15 s
    of every pull's start-up for code we never run. A stand-in ``httpx._main`` avoids it."""
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stub = types.ModuleType("httpx._main")

    def main() -> None:
        raise SystemExit("httpx's command-line client is not loaded by dockyard")

    stub.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stub


_skip_httpx_cli()

import httpx  # noqa: E402 - after the stand-in above

__all__ = ["BlobSink", "RegistryClient"]

_MANIFEST_MAX = 4 << 20
_RETRY_STATUS = {429, 500, 502, 503, 504}
_USER_AGENT = "dockyard/0.1 (+https://github.com/dockyard)"


class BlobSink(Protocol):
    """Where a download goes: a content-store writer (``offset`` is where to resume)."""

    @property
    def offset(self) -> int: ...
    def write(self, data: bytes) -> int: ...


class RegistryClient:
    """One registry endpoint; thread-safe (share it between a pull's download threads)."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        retries: int = 4,
        backoff: float = 0.25,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            verify=endpoint.verify_tls,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            transport=transport,
            headers={"User-Agent": _USER_AGENT},
            trust_env=transport is None,
        )
        self.auth = Authorizer(credentials, self._fetch_token)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.endpoint.base}{path}"

    def _pause(self, attempt: int, resp: httpx.Response | None = None) -> None:
        delay = self.backoff * (2**attempt)
        if resp is not None and resp.headers.get("retry-after", "").isdigit():
            delay = max(delay, min(float(resp.headers["retry-after"]), 30.0))
        self._sleep(delay)

    def _send(
        self,
        method: str,
        url: str,
        scopes: list[str],
        what: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        stream: bool = False,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request with auth, retries and one re-authorization after a 401."""
        idempotent = method in ("GET", "HEAD")
        attempt = 0
        reauthorized = False
        while True:
            hdrs = dict(headers or {})
            authorization = self.auth.header(scopes)
            if authorization:
                hdrs["Authorization"] = authorization
            request = self._http.build_request(
                method, url, headers=hdrs, content=content, params=params
            )
            try:
                resp = self._http.send(request, stream=stream, follow_redirects=True)
            except httpx.TransportError as exc:
                safe = idempotent or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if not safe or attempt >= self.retries:
                    raise errors.Unavailable(f"{what}: {self.endpoint.host}: {exc}") from exc
                self._pause(attempt)
                attempt += 1
                continue
            if resp.status_code == 401 and not reauthorized:
                retry_scopes = self.auth.unauthorized(
                    parse_challenges(resp.headers.get("www-authenticate")), scopes
                )
                if retry_scopes is not None:
                    resp.close()
                    scopes, reauthorized = retry_scopes, True
                    continue
            if resp.status_code in _RETRY_STATUS and attempt < self.retries:
                resp.close()
                self._pause(attempt, resp)
                attempt += 1
                continue
            return resp

    def _raise_for(self, resp: httpx.Response, what: str) -> NoReturn:
        try:
            resp.read()
            body = resp.json()
            detail = "; ".join(
                f"{e.get('code', '').lower().replace('_', ' ')}: {e.get('message', '')}".strip(": ")
                for e in body.get("errors", [])
            )
        except (ValueError, AttributeError, httpx.HTTPError):
            detail = ""
        finally:
            resp.close()
        status = resp.status_code
        detail = detail or resp.reason_phrase or str(status)
        if status == 404:
            raise errors.NotFound(f"{what}: not found: {detail}")
        if status in (401, 403):
            raise errors.PermissionDenied(f"{what}: {detail}")
        if status in (400, 405, 413, 416):
            raise errors.InvalidArgument(f"{what}: {detail}")
        raise errors.Unavailable(f"{what}: {self.endpoint.host} answered {status}: {detail}")

    def _fetch_token(
        self, challenge: Challenge, scopes: list[str], creds: Credentials | None
    ) -> Token:
        realm = challenge.realm or ""
        what = f"token from {realm}"
        form: dict[str, str] = {}
        if challenge.service:
            form["service"] = challenge.service
        try:
            if creds is not None and creds.identity_token:
                form.update(grant_type="refresh_token", refresh_token=creds.identity_token)
                form.update(client_id="dockyard", scope=" ".join(scopes))
                resp = self._token_request("POST", realm, data=form)
            else:
                params = list(form.items()) + [("scope", s) for s in scopes]
                if creds is not None:
                    params.append(("account", creds.username))
                auth = (creds.username, creds.secret) if creds is not None else None
                resp = self._token_request("GET", realm, params=params, auth=auth)
        except httpx.HTTPError as exc:
            raise errors.Unavailable(f"{what}: {exc}") from exc
        if resp.status_code in (401, 403):
            resp.close()
            if creds is None:
                raise errors.PermissionDenied(f"{self.endpoint.host}: authentication required")
            raise errors.PermissionDenied(
                f"{self.endpoint.host}: unauthorized: incorrect username or password"
            )
        if resp.status_code != 200:
            self._raise_for(resp, what)
        try:
            body = resp.json()
            value = str(body.get("token") or body.get("access_token") or "")
            expires = float(body.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError) as exc:
            raise errors.Unavailable(f"{what}: invalid response") from exc
        if not value:
            raise errors.Unavailable(f"{what}: no token in the response")
        return Token(value, expires)

    def _token_request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                if attempt >= self.retries:
                    raise
                self._pause(attempt)
                continue
            if resp.status_code in _RETRY_STATUS and attempt < self.retries:
                self._pause(attempt, resp)
                continue
            return resp
        raise AssertionError("unreachable")

    # -- API ----------------------------------------------------------------------------------
    def ping(self) -> None:
        """``GET /v2/``: learn the auth challenge; with credentials, check them.

        Raises PermissionDenied for refused credentials, Unavailable when the registry cannot
        be reached or is not a v2 registry.
        """
        what = f"registry {self.endpoint.host}"
        resp = self._send("GET", self._url("/v2/"), [], what)
        resp.close()
        if resp.status_code == 200:
            return
        if resp.status_code == 401:
            if self.auth.credentials is None:
                return  # anonymous: the challenge is learned, tokens come per request
            raise errors.PermissionDenied(f"{what}: unauthorized: incorrect username or password")
        self._raise_for(resp, what)

    def get_manifest(self, repo: str, reference: str) -> Document:
        """The manifest or index *reference* (tag or digest) of *repo*, verified.

        Raises NotFound, PermissionDenied, DigestMismatch, InvalidArgument, Unavailable.
        """
        what = (
            f"manifest for {repo}:{reference}"
            if ":" not in reference
            else f"manifest {repo}@{reference}"
        )
        resp = self._send(
            "GET",
            self._url(f"/v2/{repo}/manifests/{reference}"),
            [repository_scope(repo, "pull")],
            what,
            headers={"Accept": ", ".join(ACCEPT)},
            stream=True,
        )
        if resp.status_code != 200:
            self._raise_for(resp, what)
        try:
            data = b""
            for chunk in resp.iter_raw():
                data += chunk
                if len(data) > _MANIFEST_MAX:
                    raise errors.InvalidArgument(f"{what}: manifest larger than 4 MiB")
        except httpx.HTTPError as exc:
            raise errors.Unavailable(f"{what}: {exc}") from exc
        finally:
            resp.close()
        if digests.is_digest(reference):
            h = digests.hasher(reference)
            h.update(data)
            actual = f"{reference.split(':')[0]}:{h.hexdigest()}"
            if actual != reference:
                raise errors.DigestMismatch(f"{what}: digest mismatch: got {actual}")
        else:
            actual = digests.sha256_bytes(data)
            announced = resp.headers.get("docker-content-digest", "")
            if announced.startswith("sha256:") and announced != actual:
                raise errors.DigestMismatch(
                    f"{what}: digest mismatch: registry announced {announced}, got {actual}"
                )
        return parse_document(data, resp.headers.get("content-type"), actual, what)

    def list_tags(self, repo: str) -> list[str]:
        """Every tag of *repo*, following pagination. Raises NotFound, PermissionDenied."""
        what = f"tags of {repo}"
        url: str | None = self._url(f"/v2/{repo}/tags/list")
        tags: list[str] = []
        while url:
            resp = self._send("GET", url, [repository_scope(repo, "pull")], what)
            if resp.status_code != 200:
                self._raise_for(resp, what)
            try:
                tags += [str(t) for t in resp.json().get("tags") or []]
            except (ValueError, AttributeError) as exc:
                raise errors.Unavailable(f"{what}: invalid response") from exc
            nxt = resp.links.get("next", {}).get("url")
            url = str(resp.url.join(nxt)) if nxt else None
        return tags

    def blob_size(self, repo: str, digest: str, *, push: bool = False) -> int | None:
        """``HEAD`` a blob: its size when the registry has it in *repo*, else None."""
        what = f"blob {digest} in {repo}"
        actions = ("pull", "push") if push else ("pull",)
        resp = self._send(
            "HEAD",
            self._url(f"/v2/{repo}/blobs/{digest}"),
            [repository_scope(repo, *actions)],
            what,
        )
        resp.close()
        if resp.status_code == 200:
            return int(resp.headers.get("content-length", "0"))
        if resp.status_code == 404:
            return None
        self._raise_for(resp, what)

    def fetch_blob(
        self,
        repo: str,
        digest: str,
        sink: BlobSink,
        *,
        size: int | None = None,
        on_bytes: Callable[[int], None] | None = None,
        max_stalls: int = 5,
    ) -> None:
        """Download a blob into *sink*, resuming from ``sink.offset`` after a broken connection.

        The caller commits the sink (which verifies the digest). Raises NotFound,
        PermissionDenied, Unavailable (after *max_stalls* attempts that made no progress).
        """
        what = f"blob {digest} of {repo}"
        url = self._url(f"/v2/{repo}/blobs/{digest}")
        stalls = 0
        while True:
            start = sink.offset
            if size is not None and start >= size:
                return
            headers = {"Range": f"bytes={start}-"} if start else {}
            resp = self._send(
                "GET", url, [repository_scope(repo, "pull")], what, headers=headers, stream=True
            )
            if resp.status_code not in (200, 206):
                self._raise_for(resp, what)
            skip = start if resp.status_code == 200 else 0
            if resp.status_code == 206 and not _range_starts_at(resp, start):
                resp.close()
                raise errors.Unavailable(f"{what}: registry answered a different range")
            try:
                for chunk in resp.iter_raw():
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                        if not chunk:
                            continue
                    sink.write(chunk)
                    if size is not None and sink.offset > size:
                        raise errors.DigestMismatch(
                            f"{what}: registry sent more than the announced {size} bytes"
                        )
                    if on_bytes is not None:
                        on_bytes(len(chunk))
                complete = size is None or sink.offset >= size
            except httpx.TransportError as exc:
                complete = False
                if sink.offset == start:
                    stalls += 1
                if stalls >= max_stalls:
                    raise errors.Unavailable(f"{what}: download failed: {exc}") from exc
            finally:
                resp.close()
            if complete:
                return
            if sink.offset > start:
                stalls = 0
            self._pause(min(stalls, 3))

    # -- push -----------------------------------------------------------------------------------
    def mount_blob(self, repo: str, digest: str, source: str) -> bool:
        """Ask for a cross-repository mount of *digest* from *source*; True if mounted."""
        what = f"mount of {digest} from {source} into {repo}"
        scopes = [repository_scope(repo, "pull", "push"), repository_scope(source, "pull")]
        resp = self._send(
            "POST",
            self._url(f"/v2/{repo}/blobs/uploads/"),
            scopes,
            what,
            params={"mount": digest, "from": source},
        )
        resp.close()
        if resp.status_code == 201:
            return True
        if resp.status_code == 202:
            self._cancel(resp, scopes)  # an upload session we do not want
            return False
        self._raise_for(resp, what)

    def _cancel(self, resp: httpx.Response, scopes: list[str]) -> None:
        location = resp.headers.get("location")
        if location:
            try:
                self._send("DELETE", str(resp.url.join(location)), scopes, "cancel upload").close()
            except errors.DockyardError:
                pass

    def upload_blob(
        self,
        repo: str,
        digest: str,
        size: int,
        open_blob: Callable[[], BinaryIO],
        *,
        chunk_size: int = 8 << 20,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        """Upload a blob: one ``PUT`` when it fits in *chunk_size*, else ``PATCH`` chunks.

        Raises PermissionDenied, InvalidArgument (the registry refused the digest), Unavailable.
        """
        what = f"upload of {digest} to {repo}"
        scopes = [repository_scope(repo, "pull", "push")]
        resp = self._send("POST", self._url(f"/v2/{repo}/blobs/uploads/"), scopes, what)
        resp.close()
        if resp.status_code != 202:
            self._raise_for(resp, what)
        location = _location(resp, what)
        octets = {"Content-Type": "application/octet-stream"}
        with open_blob() as f:
            if size <= chunk_size:
                data = f.read()
                resp = self._send(
                    "PUT",
                    _with_digest(location, digest),
                    scopes,
                    what,
                    headers=octets,
                    content=data,
                )
                if resp.status_code != 201:
                    self._raise_for(resp, what)
                resp.close()
                if on_bytes is not None:
                    on_bytes(len(data))
                return
            offset = 0
            while chunk := f.read(chunk_size):
                headers = {**octets, "Content-Range": f"{offset}-{offset + len(chunk) - 1}"}
                resp = self._send("PATCH", location, scopes, what, headers=headers, content=chunk)
                resp.close()
                if resp.status_code != 202:
                    self._raise_for(resp, what)
                location = _location(resp, what)
                offset += len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        resp = self._send("PUT", _with_digest(location, digest), scopes, what, content=b"")
        resp.close()
        if resp.status_code != 201:
            self._raise_for(resp, what)

    def put_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        """``PUT`` a manifest under a tag or digest; returns its digest."""
        what = f"manifest {repo}:{reference}"
        resp = self._send(
            "PUT",
            self._url(f"/v2/{repo}/manifests/{reference}"),
            [repository_scope(repo, "pull", "push")],
            what,
            headers={"Content-Type": media_type},
            content=data,
        )
        resp.close()
        if resp.status_code not in (200, 201):
            self._raise_for(resp, what)
        return digests.sha256_bytes(data)


def _location(resp: httpx.Response, what: str) -> str:
    location = resp.headers.get("location")
    if not location:
        raise errors.Unavailable(f"{what}: registry gave no upload location")
    return str(resp.url.join(location))


def _with_digest(location: str, digest: str) -> str:
    """The upload URL with ``digest=`` added to the query the registry gave (kept as is)."""
    return str(httpx.URL(location).copy_merge_params({"digest": digest}))


def _range_starts_at(resp: httpx.Response, start: int) -> bool:
    value = resp.headers.get("content-range", "")  # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0]) == start
    except (IndexError, ValueError):
        return False
