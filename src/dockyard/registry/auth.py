"""Authorization for one registry: which header to send for a request needing some scopes.

A registry answers an unauthenticated request with 401 and a ``WWW-Authenticate`` challenge.
``Basic`` wants the credentials on every request. ``Bearer`` names a token service (realm,
service): we ask it for a token granting the request's scopes (``repository:name:pull``),
anonymously or with the user's credentials, and cache the token per set of scopes until shortly
before it expires. A 401 on a request that carried a token drops that token and asks again once,
with the scopes the new challenge names merged in.

The token request itself is a callable given by the client (this module does no I/O), so the
caching and retry logic is testable with a fake clock. Imports only ``registry.challenge`` and
``registry.credentials``.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dockyard.registry.challenge import Challenge, merge_scopes, scope_key
from dockyard.registry.credentials import Credentials

__all__ = ["Authorizer", "Token", "TokenFetcher"]

#: Token lifetime when the service does not say (the token spec's default).
DEFAULT_EXPIRES_S = 60
#: Renew a token this long before it expires.
_MARGIN_S = 5


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float = DEFAULT_EXPIRES_S


#: ``(challenge, scopes, credentials) -> Token``; raises PermissionDenied for refused credentials.
TokenFetcher = Callable[[Challenge, list[str], Credentials | None], Token]


class Authorizer:
    """The ``Authorization`` header for requests to one registry host (thread-safe)."""

    def __init__(
        self,
        credentials: Credentials | None,
        fetch: TokenFetcher,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self._fetch = fetch
        self._clock = clock
        self._challenge: Challenge | None = None
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def challenge(self) -> Challenge | None:
        return self._challenge

    def learn(self, challenges: list[Challenge]) -> bool:
        """Remember the registry's challenge (Bearer preferred); False if none is usable."""
        by_scheme = {c.scheme: c for c in challenges}
        chosen = by_scheme.get("bearer") or by_scheme.get("basic")
        if chosen is not None and chosen.scheme == "bearer" and not chosen.realm:
            chosen = by_scheme.get("basic")
        with self._lock:
            self._challenge = chosen
        return chosen is not None

    def header(self, scopes: list[str]) -> str | None:
        """The header for a request needing *scopes*, fetching a token when needed.

        None before any challenge was seen (the request goes out anonymously and its 401
        teaches us the scheme). Raises what the token fetcher raises.
        """
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            if self.credentials is None:
                return None
            pair = f"{self.credentials.username}:{self.credentials.secret}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        key = scope_key(scopes)
        now = self._clock()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached[1] > now:
            return f"Bearer {cached[0]}"
        token = self._fetch(challenge, merge_scopes(scopes), self.credentials)
        expires = now + max(float(token.expires_in) - _MARGIN_S, 1.0)
        with self._lock:
            self._tokens[key] = (token.value, expires)
        return f"Bearer {token.value}"

    def unauthorized(self, challenges: list[Challenge], scopes: list[str]) -> list[str] | None:
        """After a 401: forget the token used, learn the challenge; scopes to retry with.

        Returns None when retrying cannot help (no usable challenge, or Basic without
        credentials).
        """
        with self._lock:
            self._tokens.pop(scope_key(scopes), None)
        if not self.learn(challenges):
            return None
        challenge = self._challenge
        assert challenge is not None
        if challenge.scheme == "basic":
            return list(scopes) if self.credentials is not None else None
        return merge_scopes([*scopes, *challenge.scopes])
