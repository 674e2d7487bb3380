"""Where a registry name points: URL scheme, TLS policy, mirrors and the credential key.

``docker.io`` is served by ``registry-1.docker.io`` and keys its credentials as
``https://index.docker.io/v1/``, as Docker's ``config.json`` does. Loopback registries
(``localhost``, ``127.0.0.0/8``, ``::1``) and those listed as insecure speak plain HTTP; every
other registry gets HTTPS with certificate verification.

Configuration comes from ``<root>/daemon.json`` (``insecure-registries``, ``registry-mirrors``,
the keys dockerd uses) and from ``DOCKYARD_INSECURE_REGISTRIES`` / ``DOCKYARD_REGISTRY_MIRRORS``
(comma separated). Pure apart from ``RegistryConfig.load``. Imports only ``dockyard.errors``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dockyard import errors

__all__ = ["DOCKER_HUB", "Endpoint", "RegistryConfig", "credential_key", "host_of"]

DOCKER_HUB = "docker.io"
_HUB_HOST = "registry-1.docker.io"
_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


@dataclass(frozen=True)
class Endpoint:
    """One base URL to talk to for a registry name."""

    host: str  # host[:port] as used in URLs
    scheme: str = "https"
    verify_tls: bool = True
    mirror: bool = False

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


def host_of(server: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``http://reg:5000/`` → ``reg:5000``."""
    text = server.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.split("/", 1)[0].lower()
    return DOCKER_HUB if text in _HUB_ALIASES else text


def credential_key(server: str) -> str:
    """The key Docker's ``config.json`` files credentials under for *server*."""
    host = host_of(server)
    return _HUB_KEY if host == DOCKER_HUB else host


def _split_port(host: str) -> str:
    """The host part without a port; ``[::1]:5000`` → ``::1``."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _is_loopback(host: str) -> bool:
    bare = _split_port(host)
    if bare == "localhost" or bare.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RegistryConfig:
    """Insecure registries (``host[:port]`` or CIDR), docker.io mirrors (URLs), and how many
    blobs a pull downloads (a push uploads) at once."""

    insecure: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5

    @classmethod
    def load(cls, root: Path | None, environ: Mapping[str, str] | None = None) -> RegistryConfig:
        """Read ``<root>/daemon.json`` (if any) and the environment; raises InvalidArgument."""
        env = os.environ if environ is None else environ
        insecure: list[str] = []
        mirrors: list[str] = []
        limits: dict[str, int] = {}
        path = root / "daemon.json" if root is not None else None
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise errors.InvalidArgument(f"invalid configuration {path}: {exc}") from exc
            insecure += [str(x) for x in data.get("insecure-registries") or []]
            mirrors += [str(x) for x in data.get("registry-mirrors") or []]
            for key in ("max-concurrent-downloads", "max-concurrent-uploads"):
                if key in data:
                    try:
                        limits[key] = max(1, int(data[key]))
                    except (TypeError, ValueError) as exc:
                        raise errors.InvalidArgument(f"invalid {key} in {path}") from exc
        insecure += [x.strip() for x in env.get("DOCKYARD_INSECURE_REGISTRIES", "").split(",")]
        mirrors += [x.strip() for x in env.get("DOCKYARD_REGISTRY_MIRRORS", "").split(",")]
        return cls(
            tuple(x for x in insecure if x),
            tuple(x for x in mirrors if x),
            limits.get("max-concurrent-downloads", cls.max_concurrent_downloads),
            limits.get("max-concurrent-uploads", cls.max_concurrent_uploads),
        )

    def is_insecure(self, host: str) -> bool:
        """Plain HTTP for loopback and for hosts listed (by name, name:port or CIDR)."""
        if _is_loopback(host):
            return True
        bare = _split_port(host)
        for entry in self.insecure:
            item = host_of(entry)
            if item in (host, bare):
                return True
            if "/" in entry and "://" not in entry:
                try:
                    if ipaddress.ip_address(bare) in ipaddress.ip_network(entry, strict=False):
                        return True
                except ValueError:
                    continue
        return False

    def endpoint(self, host: str, *, mirror: bool = False) -> Endpoint:
        if self.is_insecure(host):
            return Endpoint(host, "http", False, mirror)
        return Endpoint(host, "https", True, mirror)

    def endpoints(self, domain: str, *, push: bool = False) -> list[Endpoint]:
        """Endpoints to try for *domain*, in order: mirrors (pull from docker.io only) first."""
        host = host_of(domain)
        out: list[Endpoint] = []
        if host == DOCKER_HUB:
            if not push:
                for url in self.mirrors:
                    parts = urlsplit(url if "://" in url else f"https://{url}")
                    scheme = parts.scheme or "https"
                    if self.is_insecure(parts.netloc):
                        scheme = "http"
                    out.append(Endpoint(parts.netloc, scheme, scheme == "https", True))
            out.append(Endpoint(_HUB_HOST))
            return out
        return [self.endpoint(host)]
