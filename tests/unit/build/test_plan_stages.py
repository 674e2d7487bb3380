"""The stage graph and cache keys: which stages a build runs, and when a step is reused."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.build.instructions import parse_dockerfile
from dockyard.build.planner import meta_scope, plan_stages, platform_args, step_key
from dockyard.oci.platform import Platform

MULTI = """\
ARG BASE=alpine
FROM $BASE AS deps
RUN fetch
FROM deps AS build
RUN make
FROM busybox AS docs
RUN make docs
FROM scratch AS unused
COPY x /x
FROM busybox
COPY --from=build /out /out
RUN --mount=type=bind,from=docs,target=/d cp -r /d /docs
"""


def test_target_runs_only_the_stages_it_needs_dependencies_first() -> None:
    df = parse_dockerfile(MULTI)
    plans = plan_stages(df, None, meta_scope(df, {}, {}))
    assert [p.index for p in plans] == [0, 1, 2, 4]  # "unused" is skipped
    final = plans[-1]
    assert final.needs == {1, 2}
    assert plans[1].base_stage == 0
    assert plans[0].base == "alpine"


def test_a_named_target_stops_the_graph_there() -> None:
    df = parse_dockerfile(MULTI)
    plans = plan_stages(df, "build", meta_scope(df, {}, {}))
    assert [p.index for p in plans] == [0, 1]


def test_build_arg_overrides_the_global_arg_in_from() -> None:
    df = parse_dockerfile(MULTI)
    plans = plan_stages(df, "deps", meta_scope(df, {"BASE": "debian:12"}, {}))
    assert plans[0].base == "debian:12"


def test_unknown_target_is_not_found() -> None:
    df = parse_dockerfile(MULTI)
    with pytest.raises(errors.NotFound, match="nosuch"):
        plan_stages(df, "nosuch", {})


def test_copy_from_a_later_stage_index_is_refused() -> None:
    df = parse_dockerfile("FROM busybox\nCOPY --from=1 /a /a\nFROM busybox\n")
    with pytest.raises(errors.InvalidArgument, match="later stage"):
        plan_stages(df, "0", {})


def test_platform_args_follow_buildkit_names() -> None:
    args = platform_args(Platform("linux", "arm64", "v8"), Platform("linux", "amd64"))
    assert args["TARGETPLATFORM"] == "linux/arm64/v8"
    assert args["TARGETARCH"] == "arm64" and args["TARGETVARIANT"] == "v8"
    assert args["BUILDPLATFORM"] == "linux/amd64" and args["BUILDVARIANT"] == ""


def test_step_key_is_stable_and_sensitive_to_every_part() -> None:
    key = step_key("parent", "RUN", ["sh", "-c", "x"], {"A": "1"})
    assert key == step_key("parent", "RUN", ["sh", "-c", "x"], {"A": "1"})
    assert key.startswith("sha256:") and len(key) == 71
    assert key != step_key("other", "RUN", ["sh", "-c", "x"], {"A": "1"})
    assert key != step_key("parent", "RUN", ["sh", "-c", "y"], {"A": "1"})
    assert key != step_key("parent", "RUN", ["sh", "-c", "x"], {"A": "2"})
