"""A real registry (Debian's ``docker-registry``) on 127.0.0.1, in three configurations.

- ``registry``: open (no auth).
- ``basic_registry``: htpasswd (bcrypt) basic auth, user ``alice`` / ``wonderland``.
- ``token_registry``: bearer tokens from a small token issuer running in the test process
  (``http.server`` on loopback) that signs RS256 JWTs with a key whose self-signed certificate
  is the registry's ``rootcertbundle``.

Plus builders that write test images straight into a ContentStore, a reverse proxy that can
corrupt or cut blob downloads, and per-test ``DOCKER_CONFIG``.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import http.client
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dockyard.content.store import ContentStore
from dockyard.oci import mediatypes

REGISTRY_BIN = shutil.which("docker-registry")
USER, PASSWORD = "alice", "wonderland"
SERVICE, ISSUER = "dockyard-test", "dockyard-test-issuer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    storage: Path
    proc: subprocess.Popen[bytes]
    issuer: TokenIssuer | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


def _start_registry(tmp: Path, auth: str = "") -> Registry:
    if REGISTRY_BIN is None:
        pytest.skip("docker-registry is not installed")
    port = _free_port()
    storage = tmp / "storage"
    storage.mkdir()
    config = tmp / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: dockyard-test-secret\n" + auth
    )
    with open(tmp / "registry.log", "wb") as log:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "registry.log").read_text())
            time.sleep(0.02)
    else:
        proc.kill()
        raise RuntimeError("registry did not start")
    return Registry(f"127.0.0.1:{port}", storage, proc)


def _stop(reg: Registry) -> None:
    reg.proc.terminate()
    try:
        reg.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        reg.proc.kill()
        reg.proc.wait()


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``DOCKER_CONFIG`` directory, so tests never read or write ~/.docker."""
    path = tmp_path / "docker-config"
    path.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = _start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    _stop(reg)


@pytest.fixture
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    tmp = tmp_path_factory.mktemp("registry-basic")
    out = subprocess.run(
        ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
    )
    (tmp / "htpasswd").write_text(out.stdout)
    auth = f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {tmp / 'htpasswd'}\n"
    reg = _start_registry(tmp, auth)
    yield reg
    _stop(reg)


# -- token issuer -------------------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _libtrust_kid(public_der: bytes) -> str:
    """The key id distribution derives from a public key (libtrust's fingerprint)."""
    encoded = base64.b32encode(hashlib.sha256(public_der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


@dataclass
class TokenIssuer:
    """Issues RS256 JWTs: full rights to ``alice``, pull-only to anonymous on ``public/*``."""

    key: Any
    kid: str
    expires_in: int = 300
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def sign(self, account: str, access: list[dict[str, Any]], ttl: int) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {
            "iss": ISSUER,
            "sub": account,
            "aud": SERVICE,
            "exp": now + ttl,
            "nbf": now - 10,
            "iat": now,
            "jti": f"{now}-{len(self.requests)}",
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def handle(
        self, query: dict[str, list[str]], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        account = ""
        if authorization:
            user, _, password = base64.b64decode(authorization.split()[1]).decode().partition(":")
            if (user, password) != (USER, PASSWORD):
                return 401, {"details": "incorrect username or password"}
            account = user
        scopes = [s for value in query.get("scope", []) for s in value.split()]
        self.requests.append({"account": account, "scopes": scopes})
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            granted = (
                actions.split(",") if account else (["pull"] if name.startswith("public/") else [])
            )
            access.append({"type": kind, "name": name, "actions": granted})
        return 200, {
            "token": self.sign(account, access, self.expires_in),
            "expires_in": self.expires_in,
        }


def _start_issuer(tmp: Path) -> tuple[TokenIssuer, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    bundle = tmp / "token-cert.pem"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    issuer = TokenIssuer(key, _libtrust_kid(public_der))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            status, body = issuer.handle(
                urllib.parse.parse_qs(parsed.query), self.headers.get("Authorization")
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer.server = server
    return issuer, bundle


@pytest.fixture
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    tmp = tmp_path_factory.mktemp("registry-token")
    issuer, bundle = _start_issuer(tmp)
    assert issuer.server is not None
    realm = f"http://127.0.0.1:{issuer.server.server_address[1]}/token"
    auth = (
        f"auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
        f"    rootcertbundle: {bundle}\n"
    )
    reg = _start_registry(tmp, auth)
    reg.issuer = issuer
    yield reg
    _stop(reg)
    issuer.server.shutdown()
    issuer.server.server_close()


# -- test images --------------------------------------------------------------------------------
def _layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzipped tar of *files*; returns (blob, diff id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


@dataclass(frozen=True)
class BuiltImage:
    manifest_digest: str
    manifest: bytes
    config_digest: str
    layers: list[str]
    media_type: str


def build_image(
    store: ContentStore,
    layers: list[dict[str, bytes]],
    *,
    os_: str = "linux",
    arch: str = "amd64",
    docker: bool = False,
) -> BuiltImage:
    """Write an image (gzipped layers, config, manifest) into *store*."""
    layer_media = mediatypes.DOCKER_LAYER_GZIP if docker else mediatypes.OCI_LAYER_GZIP
    descs, diff_ids = [], []
    for files in layers:
        blob, diff_id = _layer(files)
        digest = store.put_bytes(blob)
        descs.append({"mediaType": layer_media, "digest": digest, "size": len(blob)})
        diff_ids.append(diff_id)
    config = json.dumps(
        {
            "architecture": arch,
            "os": os_,
            "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"}
                for i in range(len(layers))
            ],
        },
        sort_keys=True,
    ).encode()
    config_digest = store.put_bytes(config)
    media_type = mediatypes.DOCKER_MANIFEST if docker else mediatypes.OCI_MANIFEST
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": mediatypes.DOCKER_CONFIG if docker else mediatypes.OCI_CONFIG,
                "digest": config_digest,
                "size": len(config),
            },
            "layers": descs,
        },
        indent=2,
    ).encode()
    return BuiltImage(
        store.put_bytes(manifest), manifest, config_digest, [d["digest"] for d in descs], media_type
    )


def build_index(store: ContentStore, images: dict[str, BuiltImage]) -> tuple[str, bytes]:
    """An OCI index of *images* keyed by ``os/arch[/variant]``; returns (digest, bytes)."""
    entries = []
    for plat, image in images.items():
        parts = plat.split("/")
        platform = {"os": parts[0], "architecture": parts[1]}
        if len(parts) == 3:
            platform["variant"] = parts[2]
        entries.append(
            {
                "mediaType": image.media_type,
                "digest": image.manifest_digest,
                "size": len(image.manifest),
                "platform": platform,
            }
        )
    data = json.dumps(
        {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": entries}
    ).encode()
    return store.put_bytes(data), data


# -- a reverse proxy that misbehaves on blobs -----------------------------------------------------
@dataclass
class Proxy:
    host: str
    server: ThreadingHTTPServer
    #: "corrupt": flip a byte of every blob body (or only of blob ``target`` when it is set);
    #: "cut": send half of the first blob GET, then hang up
    mode: str = "pass"
    target: str = ""
    ranges: list[str] = field(default_factory=list)
    cuts: int = 0


@pytest.fixture
def proxy_factory() -> Iterator[Callable[[Registry, str], Proxy]]:
    proxies: list[Proxy] = []

    def make(reg: Registry, mode: str) -> Proxy:
        state: dict[str, Proxy] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                proxy = state["proxy"]
                conn = http.client.HTTPConnection(reg.host, timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                is_blob = "/blobs/sha256:" in self.path and self.command == "GET"
                if is_blob and self.headers.get("Range"):
                    proxy.ranges.append(self.headers["Range"])
                if is_blob and proxy.mode == "corrupt" and data and proxy.target in self.path:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                if "/manifests/" in self.path and proxy.mode == "corrupt-manifest" and data:
                    data = data.replace(b'"schemaVersion": 2', b'"schemaVersion":  2')
                cut = (
                    is_blob
                    and proxy.mode == "cut"
                    and resp.status == 200
                    and proxy.cuts == 0
                    and len(data) > 65536
                )
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if cut:
                    proxy.cuts += 1
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _forward

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        proxy = Proxy(f"127.0.0.1:{server.server_address[1]}", server, mode)
        state["proxy"] = proxy
        threading.Thread(target=server.serve_forever, daemon=True).start()
        proxies.append(proxy)
        return proxy

    yield make
    for p in proxies:
        p.server.shutdown()
        p.server.server_close()


def registry_get(reg: Registry, path: str) -> bytes:
    accept = ", ".join(
        [
            mediatypes.OCI_INDEX,
            mediatypes.OCI_MANIFEST,
            mediatypes.DOCKER_MANIFEST,
            mediatypes.DOCKER_MANIFEST_LIST,
        ]
    )
    request = urllib.request.Request(reg.url(path), headers={"Accept": accept})
    with urllib.request.urlopen(request) as resp:
        return bytes(resp.read())


class Builders:
    """What the ``builders`` fixture hands a test."""

    image = staticmethod(build_image)
    index = staticmethod(build_index)
    layer = staticmethod(_layer)
    get = staticmethod(registry_get)


@pytest.fixture
def builders() -> type[Builders]:
    return Builders
