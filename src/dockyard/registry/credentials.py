"""Registry credentials, stored the way Docker stores them, so both tools share logins.

``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``) holds ``auths`` entries
(``{"auth": base64("user:password")}``) and may name a credential helper for all registries
(``credsStore``) or per registry (``credHelpers``). A helper is the program
``docker-credential-<name>`` speaking a tiny protocol: the action (``get``, ``store``,
``erase``) as argument, the server URL (or a JSON record for ``store``) on stdin, JSON on stdout.

Imports only ``dockyard.errors`` and ``registry.hosts``. Every I/O failure becomes a
DockyardError naming the file or helper.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard import errors
from dockyard.registry.hosts import credential_key, host_of

__all__ = ["CredentialStore", "Credentials", "config_dir"]

_HELPER_TIMEOUT_S = 30


@dataclass(frozen=True)
class Credentials:
    """A username and its secret; username ``<token>`` means the secret is an identity token."""

    username: str
    secret: str

    @property
    def identity_token(self) -> str | None:
        return self.secret if self.username == "<token>" else None

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(username={self.username!r}, secret=***)"


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker``."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return Path(env.get("HOME") or Path.home()) / ".docker"


class CredentialStore:
    """Get, store and erase credentials in one Docker configuration directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else config_dir()
        self.path = self.directory / "config.json"

    # -- config.json ------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise errors.InvalidArgument(f"invalid credentials file {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise errors.InvalidArgument(f"invalid credentials file {self.path}: not an object")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".config.json.")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent="\t")
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise errors.PermissionDenied(f"cannot write {self.path}: {exc}") from exc

    def _helper_for(self, data: dict[str, Any], key: str) -> str | None:
        helpers = data.get("credHelpers") or {}
        host = host_of(key)
        for name, helper in helpers.items():
            if host_of(name) == host and helper:
                return str(helper)
        store = data.get("credsStore")
        return str(store) if store else None

    @staticmethod
    def _find_auth(auths: dict[str, Any], key: str) -> tuple[str, dict[str, Any]] | None:
        if key in auths:
            return key, auths[key]
        host = host_of(key)
        for name, entry in auths.items():
            if host_of(name) == host:
                return name, entry
        return None

    # -- public -----------------------------------------------------------------------------
    def get(self, server: str) -> Credentials | None:
        """Credentials for *server* (any spelling: ``docker.io``, a URL, ``host:port``), or None.

        Raises InvalidArgument for a corrupt config file, Unavailable for a failing helper.
        """
        key = credential_key(server)
        data = self._load()
        helper = self._helper_for(data, key)
        if helper is not None:
            return _helper_get(helper, key)
        found = self._find_auth(data.get("auths") or {}, key)
        if found is None:
            return None
        name, entry = found
        if entry.get("identitytoken"):
            return Credentials("<token>", str(entry["identitytoken"]))
        encoded = entry.get("auth")
        if not encoded:
            if entry.get("username"):
                return Credentials(str(entry["username"]), str(entry.get("password", "")))
            return None
        try:
            user, sep, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InvalidArgument(f"invalid auth entry for {name} in {self.path}") from exc
        if not sep:
            raise errors.InvalidArgument(f"invalid auth entry for {name} in {self.path}")
        return Credentials(user, password)

    def store(self, server: str, creds: Credentials) -> None:
        """Remember *creds* for *server* (through its helper when one is configured)."""
        key = credential_key(server)
        data = self._load()
        helper = self._helper_for(data, key)
        auths = data.setdefault("auths", {})
        if helper is not None:
            payload = json.dumps(
                {"ServerURL": key, "Username": creds.username, "Secret": creds.secret}
            )
            _run_helper(helper, "store", payload)
            auths[key] = {}
        else:
            token = base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
            auths[key] = {"auth": token}
        self._save(data)

    def erase(self, server: str) -> bool:
        """Forget the credentials of *server*; False when there were none."""
        key = credential_key(server)
        data = self._load()
        helper = self._helper_for(data, key)
        removed = False
        if helper is not None:
            removed = _helper_get(helper, key) is not None
            if removed:
                _run_helper(helper, "erase", key)
        auths = data.get("auths") or {}
        found = self._find_auth(auths, key)
        if found is not None:
            del auths[found[0]]
            self._save(data)
            removed = True
        return removed


def _run_helper(helper: str, action: str, stdin: str) -> str:
    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run(
            [program, action],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT_S,
        )
    except FileNotFoundError as exc:
        raise errors.Unavailable(f"credential helper {program} not found in PATH") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise errors.Unavailable(f"credential helper {program} failed: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stdout.strip() or proc.stderr.strip() or f"exit {proc.returncode}"
        if action == "get" and "credentials not found" in message.lower():
            raise LookupError(message)
        raise errors.Unavailable(f"credential helper {program} {action}: {message}")
    return proc.stdout


def _helper_get(helper: str, key: str) -> Credentials | None:
    try:
        out = _run_helper(helper, "get", key)
    except LookupError:
        return None
    try:
        record = json.loads(out)
        username, secret = str(record["Username"]), str(record["Secret"])
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.Unavailable(
            f"credential helper docker-credential-{helper} returned invalid output"
        ) from exc
    if not username and not secret:
        return None
    return Credentials(username, secret)
