"""Image references with Docker's grammar and normalisation. Pure, stdlib only (L0).

    reference   := name [ ":" tag ] [ "@" digest ]
    name        := [domain "/"] path-component ("/" path-component)*
    domain      := host [":" port]           host: dns name, IPv4, or [IPv6]
    path-comp.  := [a-z0-9]+ ((\\.|_|__|-+) [a-z0-9]+)*
    tag         := [\\w][\\w.-]{0,127}
    digest      := algorithm ":" hex

Normalisation follows Docker: the first component is a registry only if it holds a ``.`` or a
``:``, is ``localhost``, or has an uppercase letter; otherwise the registry is ``docker.io`` and
a single-component path gains ``library/``. ``index.docker.io`` is ``docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard import errors

__all__ = ["DEFAULT_DOMAIN", "Reference", "parse", "parse_name"]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
NAME_TOTAL_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_REFERENCE = re.compile(
    rf"^((?:{_DOMAIN}/)?{_PATH})(?::({_TAG}))?(?:@({_DIGEST}))?$"
)
_ANCHORED_DOMAIN = re.compile(rf"^{_DOMAIN}$")
_ANCHORED_PATH = re.compile(rf"^{_PATH}$")
_ANCHORED_TAG = re.compile(rf"^{_TAG}$")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    """A normalised reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``docker.io/library/busybox``: the repository, fully qualified."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    def familiar_name(self) -> str:
        """``busybox`` for ``docker.io/library/busybox``, as Docker shows repositories."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_PREFIX) and "/" not in path[len(OFFICIAL_PREFIX) :]:
            path = path[len(OFFICIAL_PREFIX) :]
        return path

    def familiar(self) -> str:
        """The short form a user types: ``busybox:latest``, ``localhost:5000/app@sha256:…``."""
        out = self.familiar_name()
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    def with_default_tag(self) -> Reference:
        """Add ``:latest`` when the reference has neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, "latest", None)
        return self

    def with_tag(self, tag: str) -> Reference:
        if not _ANCHORED_TAG.match(tag):
            raise errors.InvalidArgument(f"invalid tag format: {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)

    def repository(self) -> Reference:
        """The bare repository (no tag, no digest)."""
        return Reference(self.domain, self.path)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse(text: str) -> Reference:
    """Parse and normalise a reference as ``docker pull`` does; raises InvalidArgument.

    ``busybox`` → ``docker.io/library/busybox`` (no tag added: see ``with_default_tag``).
    """
    if _HEX64.match(text):
        raise errors.InvalidArgument(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    if not text:
        raise errors.InvalidArgument("invalid reference format")
    name_part, tag, digest = _split_parts(text)
    domain, remainder = _split_domain(name_part)
    if remainder.lower() != remainder:
        raise errors.InvalidArgument(
            f"invalid reference format: repository name ({remainder}) must be lowercase"
        )
    candidate = f"{domain}/{remainder}"
    m = _REFERENCE.match(candidate + (f":{tag}" if tag else "") + (f"@{digest}" if digest else ""))
    if m is None or not _ANCHORED_DOMAIN.match(domain) or not _ANCHORED_PATH.match(remainder):
        raise errors.InvalidArgument(f"invalid reference format: {text}")
    if len(candidate) > NAME_TOTAL_MAX:
        raise errors.InvalidArgument(
            f"invalid reference format: repository name must not be more than {NAME_TOTAL_MAX} characters"
        )
    if digest is not None:
        from dockyard.oci.digest import validate

        validate(digest)
    return Reference(domain, remainder, tag, digest)


def parse_name(text: str) -> Reference:
    """Parse a repository name without tag or digest (``docker tag``'s target repo part)."""
    ref = parse(text)
    if ref.tag is not None or ref.digest is not None:
        raise errors.InvalidArgument(f"invalid repository name: {text}")
    return ref


def _split_parts(text: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in text:
        text, _, digest = text.partition("@")
        if not digest:
            raise errors.InvalidArgument("invalid reference format")
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _ANCHORED_TAG.match(tag):
            raise errors.InvalidArgument("invalid reference format")
    return text, tag, digest
