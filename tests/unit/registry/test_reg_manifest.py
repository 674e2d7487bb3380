import json

import pytest

from dockyard import errors
from dockyard.oci import mediatypes
from dockyard.oci.platform import Platform
from dockyard.registry.manifest import Descriptor, descriptors, parse_document, select_platform

D = "sha256:" + "a" * 64


def _entry(os_, arch, variant=None, digest="b"):
    plat = {"os": os_, "architecture": arch}
    if variant:
        plat["variant"] = variant
    return Descriptor(mediatypes.OCI_MANIFEST, "sha256:" + digest * 64, 100, plat)


INDEX = [
    _entry("linux", "amd64", digest="1"),
    _entry("linux", "arm", "v6", digest="2"),
    _entry("linux", "arm", "v7", digest="3"),
    _entry("linux", "arm64", "v8", digest="4"),
    _entry("unknown", "unknown", digest="5"),
]


def test_platform_selection():
    assert select_platform(INDEX, Platform("linux", "amd64")).digest.endswith("1" * 64)
    assert select_platform(INDEX, Platform("linux", "arm", "v7")).digest.endswith("3" * 64)
    assert select_platform(INDEX, Platform("linux", "arm64")).digest.endswith("4" * 64)
    assert select_platform(INDEX, Platform("linux", "arm64", "v8")).digest.endswith("4" * 64)


def test_no_matching_platform_names_it():
    with pytest.raises(errors.NotFound, match="no matching manifest for windows/amd64"):
        select_platform(INDEX, Platform("windows", "amd64"))
    with pytest.raises(errors.NotFound):
        select_platform([INDEX[4]], Platform("linux", "amd64"))  # attestations never match


def test_media_type_from_body_or_header():
    body = {"schemaVersion": 2, "config": {"digest": D, "size": 1}, "layers": []}
    doc = parse_document(json.dumps(body).encode(), mediatypes.DOCKER_MANIFEST, D, "m")
    assert doc.media_type == mediatypes.DOCKER_MANIFEST
    config, layers = descriptors(doc)
    assert config.digest == D and layers == []
    body["mediaType"] = mediatypes.OCI_MANIFEST
    assert (
        parse_document(json.dumps(body).encode(), "text/plain", D, "m").media_type
        == mediatypes.OCI_MANIFEST
    )


def test_schema1_and_junk_are_refused():
    with pytest.raises(errors.InvalidArgument, match="schema 1"):
        parse_document(b'{"schemaVersion": 1, "fsLayers": []}', None, D, "m")
    with pytest.raises(errors.InvalidArgument, match="not valid JSON"):
        parse_document(b"<html>", None, D, "m")
    bad = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"digest": "md5:x", "size": 1},
    }
    with pytest.raises(errors.InvalidArgument):
        descriptors(parse_document(json.dumps(bad).encode(), None, D, "m"))
