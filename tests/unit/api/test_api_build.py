"""``POST /build`` through the API: the legacy builder's JSON lines, tags, cache, errors."""

from __future__ import annotations

import io
import json
import tarfile

from api_testclient import Api

from _helpers import images as helpers
from dockyard.api.routes_build import step_line


def _context(files: dict[str, str], compression: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}") as tar:  # type: ignore[call-overload]
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


DOCKERFILE = "FROM busybox\nARG GREETING=hello\nLABEL greeting=$GREETING\nENV MODE=prod\n"


def _streams(lines: list[dict[str, object]]) -> str:
    return "".join(str(line["stream"]) for line in lines if "stream" in line)


def test_build_streams_steps_aux_and_tags(api: Api, loaded: helpers.TestImage) -> None:
    reply = api.post("/v1.50/build", params=[("t", "app:1"), ("t", "app:latest"),
                                               ("buildargs", json.dumps({"GREETING": "hi"})),
                                               ("labels", json.dumps({"team": "core"}))],
                     data=_context({"Dockerfile": DOCKERFILE}, "gz"))
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    lines = reply.lines()
    [aux] = [line["aux"] for line in lines if "aux" in line]
    image_id = aux["ID"]
    assert image_id.startswith("sha256:") and len(image_id) == 71
    text = _streams(lines)
    assert text.startswith("Step 1/")
    assert ": FROM busybox\n" in text
    assert text.endswith(f"Successfully built {image_id[7:19]}\n"
                         "Successfully tagged app:1\nSuccessfully tagged app:latest\n")
    doc = api.get("/images/app:1/json").json()
    assert doc["Id"] == image_id
    assert doc["Config"]["Labels"] == {"tier": "web", "greeting": "hi", "team": "core"}
    assert "MODE=prod" in doc["Config"]["Env"]
    assert api.get("/images/app:latest/json").json()["Id"] == image_id
    assert list((api.engine.settings.root / "tmp").glob("build-context-*")) == []  # spool gone


def test_quiet_build_answers_only_the_id_and_a_rebuild_is_the_same_image(
    api: Api, loaded: helpers.TestImage
) -> None:
    context = _context({"Dockerfile": DOCKERFILE})
    first = api.post("/build", params={"t": "app", "q": "1"}, data=context).lines()
    image_id = first[0]["aux"]["ID"]
    assert _streams(first) == image_id + "\n"  # what `docker build -q` prints
    again = api.post("/build", params={"t": "app"}, data=context).lines()
    assert [line["aux"]["ID"] for line in again if "aux" in line] == [image_id]


def test_dockerfile_target_and_unused_args(api: Api, loaded: helpers.TestImage) -> None:
    text = ("FROM busybox AS base\nLABEL stage=base\n"
            "FROM base AS final\nLABEL stage=final\n")
    reply = api.post("/build", params={"t": "multi", "dockerfile": "build/App.dockerfile",
                                       "target": "base",
                                       "buildargs": json.dumps({"UNUSED": "1", "NULL": None})},
                     data=_context({"build/App.dockerfile": text}, "bz2"))
    assert reply.status == 200, reply.body
    assert "[Warning] One or more build-args [UNUSED] were not consumed\n" in _streams(reply.lines())
    labels = api.get("/images/multi/json").json()["Config"]["Labels"]
    assert labels["stage"] == "base"


def test_errors_before_the_first_line_are_http_errors(api: Api, loaded: helpers.TestImage) -> None:
    missing = api.post("/build", params={"t": "x"}, data=_context({"other": "x"}))
    assert missing.status == 404
    assert "Dockerfile" in missing.json()["message"]
    bad_tag = api.post("/build", params={"t": "Bad:Tag:x"}, data=_context({"Dockerfile": DOCKERFILE}))
    assert bad_tag.status == 400
    not_tar = api.post("/build", data=b"not a tar at all" * 64)
    assert not_tar.status == 400 and "tar" in not_tar.json()["message"]
    assert api.post("/build", params={"buildargs": "[1]"}, data=b"").status == 400
    assert api.post("/build", params={"remote": "https://example.com/x.tar"}).status == 400
    bad_mode = api.post("/build", params={"networkmode": "mynet"}, data=b"")
    assert bad_mode.status == 400 and "mynet" in bad_mode.json()["message"]
    assert api.get("/images/json", params={"filters": json.dumps({"reference": ["x"]})}).json() == []


def test_a_failing_step_ends_the_stream_with_error_detail(api: Api, loaded: helpers.TestImage) -> None:
    reply = api.post("/build", params={"t": "broken"},
                     data=_context({"Dockerfile": "FROM busybox\nCOPY missing.txt /\n"}))
    assert reply.status == 200
    last = reply.lines()[-1]
    assert last["errorDetail"]["code"] == 1
    assert "missing.txt" in last["error"] and last["errorDetail"]["message"] == last["error"]
    assert api.get("/images/broken/json").status == 404  # a failed build registers nothing


def test_step_line_renders_builder_labels() -> None:
    assert step_line("[stage-0 2/3] RUN make") == "Step 2/3 : RUN make"
    assert step_line("[build 1/4] FROM busybox") == "Step 1/4 : FROM busybox"
    assert step_line("odd label") == "Step : odd label"
