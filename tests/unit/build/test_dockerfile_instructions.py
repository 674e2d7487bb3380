"""The typed Dockerfile: stage grouping, checked instructions, and the errors a user sees."""

from __future__ import annotations

import time

import pytest

from dockyard import errors
from dockyard.build.heredoc import Heredoc
from dockyard.build.instructions import HealthConfig, parse_dockerfile
from dockyard.build.parse_flags import Flag, parse_duration

MULTI_STAGE = """\
# syntax=docker/dockerfile:1
ARG GO=1.22
ARG DEBUG
FROM --platform=$BUILDPLATFORM golang:${GO} AS Build
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build \\
    --mount=type=bind,target=. \\
    go build -o /out/app .

FROM alpine:3.19
COPY --from=build --chmod=755 --link /out/app /usr/local/bin/
ENV APP_ENV=prod LEVEL="info debug"
ENV LEGACY some value
LABEL org.opencontainers.image.title=app
EXPOSE 8080/tcp 9090
USER app
HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --retries=3 \\
  CMD ["wget", "-q", "-O-", "http://localhost:8080/health"]
ENTRYPOINT ["app"]
"""


def test_stages_group_their_instructions_and_meta_args_come_first() -> None:
    df = parse_dockerfile(MULTI_STAGE)
    assert [(a.name, a.pairs) for a in df.meta_args] == [
        ("arg", (("GO", "1.22"),)),
        ("arg", (("DEBUG", None),)),
    ]
    build, final = df.stages
    assert (build.index, build.name, build.base, build.platform) == (
        0,
        "build",
        "golang:${GO}",
        "$BUILDPLATFORM",
    )
    assert [i.name for i in build.instructions] == ["workdir", "run"]
    assert (final.index, final.name, final.base, final.platform) == (1, "", "alpine:3.19", None)
    assert [i.name for i in final.instructions] == [
        "copy", "env", "env", "label", "expose", "user", "healthcheck", "entrypoint",
    ]  # fmt: skip
    assert df.stage("BUILD") is build
    assert df.stage(1) is final and df.stage("1") is final
    assert df.directives[0].value == "docker/dockerfile:1"
    with pytest.raises(errors.NotFound, match="No such build stage: test"):
        df.stage("test")


def test_instruction_fields_a_builder_needs() -> None:
    df = parse_dockerfile(MULTI_STAGE)
    run = df.stages[0].instructions[1]
    assert run.flag_values("mount") == (
        "type=cache,target=/root/.cache/go-build",
        "type=bind,target=.",
    )
    assert run.args == ("go build -o /out/app .",)
    assert not run.json_form
    assert (run.start_line, run.end_line) == (6, 8)

    copy, env, legacy, label, expose = df.stages[1].instructions[:5]
    assert copy.flags == (Flag("from", "build"), Flag("chmod", "755"), Flag("link", "true"))
    assert copy.flag("from") == "build" and copy.flag("chown") is None
    assert copy.sources() == ("/out/app",) and copy.destination == "/usr/local/bin/"
    assert env.pairs == (("APP_ENV", "prod"), ("LEVEL", '"info debug"'))  # raw: expanded later
    assert legacy.pairs == (("LEGACY", "some value"),)
    assert label.pairs == (("org.opencontainers.image.title", "app"),)
    assert expose.args == ("8080/tcp", "9090")

    health = df.stages[1].instructions[6].health
    assert health == HealthConfig(
        ("CMD", "wget", "-q", "-O-", "http://localhost:8080/health"),
        interval=30_000_000_000,
        timeout=90_000_000_000,
        start_period=5_000_000_000,
        retries=3,
    )
    entrypoint = df.stages[1].instructions[7]
    assert entrypoint.json_form and entrypoint.args == ("app",)


def test_heredoc_sources_carry_their_body() -> None:
    df = parse_dockerfile("FROM a\nCOPY <<-EOF <<'raw' conf /etc/\n\tx=$Y\n\tEOF\n$Z\nraw\n")
    copy = df.stages[0].instructions[0]
    assert copy.sources() == (
        Heredoc("EOF", 0, expand=True, chomp=True, content="x=$Y\n"),
        Heredoc("raw", 0, expand=False, chomp=False, content="$Z\n"),
        "conf",
    )


def test_onbuild_keeps_its_trigger_and_expression() -> None:
    df = parse_dockerfile("FROM a\nONBUILD COPY --from=x . /app\nONBUILD RUN <<EOF\nmake\nEOF\n")
    copy_trigger, run_trigger = df.stages[0].instructions
    assert copy_trigger.trigger is not None
    assert copy_trigger.trigger.name == "copy"
    assert copy_trigger.trigger.flag("from") == "x"
    assert copy_trigger.onbuild_expression() == "COPY --from=x . /app"
    assert run_trigger.onbuild_expression() == "RUN <<EOF\nmake\nEOF"


def test_healthcheck_none_and_shell_form() -> None:
    df = parse_dockerfile(
        "FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --retries=0 CMD curl -f x || exit 1\n"
    )
    none, shell = df.stages[0].instructions
    assert none.health == HealthConfig(("NONE",))
    assert shell.health == HealthConfig(("CMD-SHELL", "curl -f x || exit 1"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM a\nRUN x\nRUNN y\n", "Dockerfile:3: unknown instruction: RUNN"),
        ("RUN echo\nFROM a\n", "Dockerfile:1: no build stage in current context"),
        ("ARG X\n", "Dockerfile: no FROM instruction: nothing to build"),
        ("FROM a\nCOPY --user=me a b\n", "Dockerfile:2: unknown flag: user"),
        ("FROM a\nCOPY --from=x --from=y a b\n", "Dockerfile:2: duplicate flag specified: from"),
        ("FROM a\nCOPY --chmod a b\n", "Dockerfile:2: missing a value on flag: chmod"),
        ("FROM a\nADD --link=yes a b\n", "Dockerfile:2: expecting boolean value for flag link, not: yes"),
        ("FROM a\nWORKDIR --x=1 /a\n", "Dockerfile:2: unknown flag: x"),
        ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS 1st\n", 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols'),
        ("FROM a AS x\nFROM b AS X\n", 'Dockerfile:2: duplicate stage name "x"'),
        ("FROM a\nCOPY only\n", "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("FROM a\nCOPY a <<EOF\nx\nEOF\n", "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
        ("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument"),
        ("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
        ("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"),
        ("FROM a\nVOLUME [\"\"]\n", "Dockerfile:2: VOLUME specified can not be an empty string"),
        ("FROM a\nSHELL /bin/bash -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
        ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
        ("FROM a\nLABEL =x\n", "Dockerfile:2: LABEL names can not be blank"),
        ("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
        ("FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
        ("FROM a\nHEALTHCHECK TEST x\n", 'Dockerfile:2: Unknown type "TEST" in HEALTHCHECK (try CMD)'),
        ("FROM a\nHEALTHCHECK --interval=10us CMD x\n", 'Dockerfile:2: Interval "interval" cannot be less than 1ms'),
        ("FROM a\nHEALTHCHECK --timeout=5 CMD x\n", 'Dockerfile:2: time: missing unit in duration "5"'),
        ("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2: --retries cannot be negative (-1)"),
    ],
)  # fmt: skip
def test_errors_point_at_the_line(text: str, message: str) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_dockerfile(text)
    assert str(exc.value) == message


def test_error_names_the_file_given() -> None:
    with pytest.raises(
        errors.InvalidArgument, match=r"^ci/Dockerfile\.test:2: unknown instruction: COPPY$"
    ):
        parse_dockerfile("FROM a\nCOPPY a b\n", filename="ci/Dockerfile.test")


def test_go_durations() -> None:
    assert parse_duration("1h2m3.5s") == 3_723_500_000_000
    assert parse_duration("1.5ms") == 1_500_000
    assert parse_duration("-2us") == -2_000
    assert parse_duration("0") == 0
    for bad in ("", "5", "s", "1x", "1..5s"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_thousand_line_dockerfile_parses_well_under_50ms() -> None:
    lines = ["FROM alpine AS base"]
    for i in range(333):
        lines += [
            f"RUN --mount=type=cache,target=/c echo {i} && apt-get install -y foo bar \\",
            f'ENV K{i}="v {i}" L{i}=x',
            f"COPY --chown=1:1 src{i} /dst{i}/",
        ]
    text = "\n".join(lines) + "\n"
    assert len(text.splitlines()) == 1000
    best = float("inf")
    for _ in range(5):  # the best of a few runs: a busy CI host must not make this flaky
        start = time.perf_counter()
        df = parse_dockerfile(text)
        best = min(best, time.perf_counter() - start)
    assert len(df.stages[0].instructions) == 666
    assert best < 0.05, f"parse took {best * 1000:.1f} ms"
