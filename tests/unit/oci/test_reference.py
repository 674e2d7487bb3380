import pytest

from dockyard import errors
from dockyard.oci.reference import parse


@pytest.mark.parametrize(
    ("text", "full", "familiar"),
    [
        ("busybox", "docker.io/library/busybox", "busybox"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox", "busybox"),
        ("docker.io/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/team/app", "docker.io/team/app", "team/app"),
        ("team/app:v1", "docker.io/team/app:v1", "team/app:v1"),
        ("localhost/app", "localhost/app", "localhost/app"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000/a/b/c:t"),
        ("[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"),
        ("quay.io/org/app@sha256:" + "a" * 64, "quay.io/org/app@sha256:" + "a" * 64,
         "quay.io/org/app@sha256:" + "a" * 64),
        ("a.b/c__d/e-f.g:T_1", "a.b/c__d/e-f.g:T_1", "a.b/c__d/e-f.g:T_1"),
    ],
)
def test_normalises_like_docker(text: str, full: str, familiar: str) -> None:
    ref = parse(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


def test_default_tag_is_latest() -> None:
    assert str(parse("busybox").with_default_tag()) == "docker.io/library/busybox:latest"
    digest_ref = parse("busybox@sha256:" + "b" * 64)
    assert digest_ref.with_default_tag() is digest_ref


def test_uppercase_repository_refused_with_dockers_message() -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        parse("Busybox")
    assert str(info.value) == (
        "invalid reference format: repository name (library/Busybox) must be lowercase"
    )


def test_uppercase_first_component_is_a_registry() -> None:
    assert parse("MyRegistry/app").domain == "MyRegistry"


@pytest.mark.parametrize(
    "text",
    ["", "a:", "a@", "-a", "a/-b", "a//b", "a:" + "t" * 129, "a@sha256:xyz", "a b", "a:tag@sha256:" + "a" * 10],
)
def test_invalid_references_are_refused(text: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        parse(text)


def test_64_hex_is_not_a_repository_name() -> None:
    with pytest.raises(errors.InvalidArgument, match="64-byte hexadecimal"):
        parse("f" * 64)


def test_name_longer_than_255_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="255"):
        parse("a/" + "b" * 260)
