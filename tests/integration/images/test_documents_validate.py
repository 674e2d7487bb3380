"""Every JSON document we write validates against the OCI image-spec schemas, and meets what
the schemas cannot check (lowercase sha256 hex of the right length, Env as KEY=VAL)."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "image-spec-schema"
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

pytestmark = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="conformance schemas are not beside the repository")


def _validator(name: str):  # type: ignore[no-untyped-def]
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    # Each file's relative $refs ("defs-descriptor.json#…") resolve against the id of the
    # schema they stand in, so every file is registered under its id and under the URL its
    # siblings' ids make of its file name.
    resources = []
    for path in SCHEMAS.glob("*.json"):
        doc = json.loads(path.read_text())
        resource = Resource.from_contents(doc, default_specification=DRAFT4)
        resources.append((doc.get("id", path.name), resource))
        for other in SCHEMAS.glob("*.json"):
            base = json.loads(other.read_text()).get("id", "")
            if base:
                resources.append((base.rsplit("/", 1)[0] + "/" + path.name, resource))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft4Validator(schema, registry=registry)


def _digests(value: object) -> list[str]:
    if isinstance(value, dict):
        out = [v for k, v in value.items() if k == "digest" and isinstance(v, str)]
        for v in value.values():
            out += _digests(v)
        return out
    if isinstance(value, list):
        return [d for v in value for d in _digests(v)]
    return []


def test_saved_documents_validate(dockyard, busybox_tar: Path, tmp_path: Path) -> None:
    dockyard.run("import", "-c", "ENV A=1", "-c", "LABEL x=y", str(busybox_tar), "valid:1")
    archive = tmp_path / "v.tar"
    dockyard.run("save", "-o", str(archive), "valid:1")
    with tarfile.open(archive) as tar:
        def read(name: str) -> dict:
            return json.load(tar.extractfile(name))  # type: ignore[arg-type]

        index = read("index.json")
        layout = read("oci-layout")
        manifest_desc = index["manifests"][0]
        manifest = read("blobs/sha256/" + manifest_desc["digest"].split(":")[1])
        config = read("blobs/sha256/" + manifest["config"]["digest"].split(":")[1])
    _validator("image-index-schema.json").validate(index)
    _validator("image-layout-schema.json").validate(layout)
    _validator("image-manifest-schema.json").validate(manifest)
    _validator("config-schema.json").validate(config)
    for digest in _digests(index) + _digests(manifest) + config["rootfs"]["diff_ids"]:
        assert DIGEST.match(digest), digest
    assert all(re.match(r"^[^=]+=", e) for e in config["config"]["Env"])
