"""The state of one stage while it builds: the image so far, its scope of ARGs, its cache key.

``StageState`` holds the image config document being written (Docker's field layout), the
layers (diff id + blob descriptor) and the top snapshot's chain id, plus what the Dockerfile
semantics need between steps: the stage's build arguments (``ARG`` values in scope, in
declaration order), whether this stage set ``CMD`` (``ENTRYPOINT`` resets an inherited one),
and the cache key every later step chains from.

Pure data and pure functions. Imports only the standard library and ``dockyard.oci``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from dockyard.oci import image as docs
from dockyard.oci.digest import chain_ids, sha256_bytes

__all__ = ["DEFAULT_PATH", "Layer", "StageState", "chain_of", "env_list_get", "env_list_set"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Layer:
    """One layer of the image: its diff id and its blob's descriptor."""

    diff_id: str
    descriptor: dict[str, Any]


def chain_of(parent: str | None, diff_id: str) -> str:
    """The chain id of a layer ``diff_id`` on top of chain ``parent`` (OCI's definition)."""
    return diff_id if parent is None else sha256_bytes(f"{parent} {diff_id}".encode())


def env_list_get(env: list[str], name: str) -> str | None:
    for item in env:
        key, _, value = item.partition("=")
        if key == name:
            return value
    return None


def env_list_set(env: list[str], name: str, value: str) -> list[str]:
    """``env`` with ``name`` set, in place of an earlier value (Docker keeps the position)."""
    out = list(env)
    for i, item in enumerate(out):
        if item.partition("=")[0] == name:
            out[i] = f"{name}={value}"
            return out
    out.append(f"{name}={value}")
    return out


@dataclass
class StageState:
    """The image a stage is building, and the scope its instructions see."""

    image: dict[str, Any]
    layers: list[Layer]
    key: str
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False
    name: str = ""

    @classmethod
    def from_base(cls, base_config: dict[str, Any] | None, layers: list[Layer], key: str,
                  platform: dict[str, str], name: str = "") -> StageState:  # fmt: skip
        """A stage starting from a base image's config (None for ``scratch``)."""
        if base_config is None:
            image: dict[str, Any] = {
                "architecture": platform["architecture"], "config": {}, "created": "",
                "history": [], "os": platform["os"], "rootfs": {"type": "layers", "diff_ids": []},
            }  # fmt: skip
            if platform.get("variant"):
                image["variant"] = platform["variant"]
        else:
            image = copy.deepcopy(base_config)
            image.setdefault("config", {})
            image.setdefault("history", [])
        config = image["config"] or {}
        image["config"] = config
        env = list(config.get("Env") or [])
        if env_list_get(env, "PATH") is None:
            env.append("PATH=" + DEFAULT_PATH)
        config["Env"] = env
        config.pop("ArgsEscaped", None)
        return cls(image, list(layers), key, name=name)

    @property
    def config(self) -> dict[str, Any]:
        return self.image["config"]  # type: ignore[no-any-return]

    @property
    def env(self) -> list[str]:
        return list(self.config.get("Env") or [])

    @property
    def chain_id(self) -> str | None:
        """The snapshot holding this state's filesystem (None: empty)."""
        chain = chain_ids([layer.diff_id for layer in self.layers])
        return chain[-1] if chain else None

    @property
    def workdir(self) -> str:
        return str(self.config.get("WorkingDir") or "/")

    @property
    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or ["/bin/sh", "-c"])

    def scope(self) -> dict[str, str]:
        """What ``$VAR`` expands to in this stage: its ARGs, overridden by its ENV."""
        out = dict(self.args)
        for item in self.env:
            key, _, value = item.partition("=")
            out[key] = value
        return out

    def run_env(self, extra: dict[str, str] | None = None) -> list[str]:
        """The environment of a RUN: the image's ENV plus the ARGs ENV does not override."""
        env = self.env
        for name, value in {**self.args, **(extra or {})}.items():
            if env_list_get(env, name) is None:
                env.append(f"{name}={value}")
        return env

    def history_args(self) -> list[str]:
        """``K=V`` of the build args a RUN's history line shows (``RUN |2 A=1 B=2 …``)."""
        env = self.env
        return [f"{k}={v}" for k, v in self.args.items() if env_list_get(env, k) is None]

    def add_history(self, created_by: str, created: str, empty_layer: bool) -> None:
        entry = docs.history_entry(
            created,
            created_by=created_by,
            empty_layer=empty_layer,
            comment="buildkit.dockerfile.v0",
        )
        self.image["history"].append(entry)

    def add_layer(self, layer: Layer) -> None:
        self.layers.append(layer)

    def finish(self, created: str) -> dict[str, Any]:
        """The image config document of this state, stamped ``created``."""
        image = copy.deepcopy(self.image)
        image["created"] = created
        image["rootfs"] = {"type": "layers", "diff_ids": [la.diff_id for la in self.layers]}
        return image
