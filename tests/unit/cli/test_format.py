import pytest

from dockyard import errors
from dockyard.cli._format import Template, emit
from dockyard.cli._humanize import human_duration, human_size


def test_go_template_fields_and_functions() -> None:
    data = {"Id": "sha256:abc", "Config": {"Labels": {"a": "1"}, "Cmd": ["sh", "-c"]}, "Os": "linux"}
    assert Template("{{.Id}} {{.Os}}").render(data) == "sha256:abc linux"
    assert Template('{{index .Config.Labels "a"}}').render(data) == "1"
    assert Template("{{json .Config.Cmd}}").render(data) == '["sh","-c"]'
    assert Template('{{join .Config.Cmd " "}}').render(data) == "sh -c"
    assert Template("{{upper .Os}}").render(data) == "LINUX"
    assert Template("{{len .Config.Cmd}} {{len .Config.Labels}}").render(data) == "2 1"


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(errors.InvalidArgument, match="can't evaluate field Nope"):
        Template("{{.Nope}}").render({"Id": "x"})


def test_table_format_has_header_and_aligned_columns() -> None:
    items = [{"Repository": "busybox", "Tag": "latest"}, {"Repository": "a", "Tag": "v1"}]
    out = emit("table {{.Repository}}\\t{{.Tag}}", items, {"Repository": "REPOSITORY", "Tag": "TAG"}, "")
    assert out.splitlines() == ["REPOSITORY   TAG", "busybox      latest", "a            v1"]


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0B"), (999, "999B"), (4261550, "4.26MB"), (856000, "856kB"), (1.5e9, "1.5GB")]
)
def test_sizes_as_docker_prints_them(size: float, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "Less than a second"), (5, "5 seconds"), (61, "About a minute"), (600, "10 minutes"),
     (3600, "About an hour"), (7200, "2 hours"), (3 * 86400, "3 days"), (20 * 86400, "2 weeks")],
)
def test_durations_as_docker_prints_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
