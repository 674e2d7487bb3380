"""Multi-stage builds and the layer cache, through the real CLI (the issue's "Must show")."""

from __future__ import annotations

import json
import os
from pathlib import Path

from build_test_helpers import BASE, Builder, steps

from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

MULTI = f"""\
FROM {BASE} AS build
WORKDIR /src
COPY gen.sh .
RUN sh gen.sh > artefact && dd if=/dev/zero of=/src/heavy bs=1k count=256 2>/dev/null
COPY late.txt .
RUN cat late.txt >> artefact

FROM {BASE}
COPY --from=build /src/artefact /app/artefact
CMD ["cat", "/app/artefact"]
"""


def _write(ctx: Path, dockerfile: str = MULTI) -> None:
    (ctx / "Dockerfile").write_text(dockerfile)
    (ctx / "gen.sh").write_text("echo built-artefact\n")
    (ctx / "late.txt").write_text("late-1\n")


def _layers(builder: Builder, name: str) -> list[str]:
    return json.loads(builder.run("inspect", name).stdout)[0]["RootFS"]["Layers"]


def test_multistage_final_image_has_none_of_the_build_stage_layers(
    builder: Builder, context: Path
) -> None:
    _write(context)
    builder.build(context, "-t", "app:1")
    builder.build(context, "--target", "build", "-t", "app:build")
    base, build_stage, final = (
        _layers(builder, BASE),
        _layers(builder, "app:build"),
        _layers(builder, "app:1"),
    )
    assert final[: len(base)] == base and len(final) == len(base) + 1
    assert not set(build_stage[len(base) :]) & set(final)
    # the artefact arrived: a child build can read it
    (context / "Dockerfile").write_text(
        "FROM app:1\nRUN cat /app/artefact && test ! -e /src/heavy\n"
    )
    _, out = builder.build(context)
    assert "built-artefact" in out and "late-1" in out
    config = json.loads(builder.run("inspect", "app:1").stdout)[0]["Config"]
    assert config["Cmd"] == ["cat", "/app/artefact"]


def test_unchanged_rebuild_reuses_every_step_and_gives_the_same_image(
    builder: Builder, context: Path
) -> None:
    _write(context)
    _, first = builder.build(context, "-t", "app:1")
    assert "CACHED" not in steps(first).values()
    first_id = builder.image_id("app:1")
    _, second = builder.build(context, "-t", "app:1")
    layer_steps = {k: v for k, v in steps(second).items() if not k.startswith("FROM")}
    assert layer_steps and set(layer_steps.values()) == {"CACHED"}, second
    assert builder.image_id("app:1") == first_id


def test_touching_a_late_file_rebuilds_only_from_that_step(builder: Builder, context: Path) -> None:
    _write(context)
    builder.build(context, "-t", "app:1")
    (context / "late.txt").write_text("late-2\n")
    _, out = builder.build(context, "-t", "app:1")
    status = steps(out)
    assert status["WORKDIR /src"] == "CACHED"
    assert status["COPY gen.sh ."] == "CACHED"
    assert (
        status[
            "RUN sh gen.sh > artefact && dd if=/dev/zero of=/src/heavy bs=1k count=256 2>/dev/null"
        ]
        == "CACHED"
    )
    assert status["COPY late.txt ."] == "DONE"
    assert status["RUN cat late.txt >> artefact"] == "DONE"
    assert status["COPY --from=build /src/artefact /app/artefact"] == "DONE"


def test_mode_and_dockerignore_changes_invalidate_dependent_steps(
    builder: Builder, context: Path
) -> None:
    (context / "Dockerfile").write_text(f"FROM {BASE}\nCOPY dir /dir\nRUN ls -ln /dir\n")
    (context / "dir").mkdir()
    (context / "dir" / "a").write_text("a")
    (context / "dir" / "b").write_text("b")
    builder.build(context)
    os.chmod(context / "dir" / "a", 0o700)
    _, out = builder.build(context)
    assert steps(out)["COPY dir /dir"] == "DONE" and "-rwx------" in out
    (context / ".dockerignore").write_text("dir/b\n")
    _, out = builder.build(context)
    assert steps(out)["COPY dir /dir"] == "DONE"
    assert " b\n" not in out.replace("#", "\n")
    (context / ".dockerignore").write_text("dir/b\n# a comment changes nothing\n")
    _, out = builder.build(context)
    assert steps(out)["COPY dir /dir"] == "CACHED"


def test_cache_survives_rmi_and_builder_prune_clears_it(builder: Builder, context: Path) -> None:
    _write(context)
    builder.build(context, "-t", "app:1")
    builder.run("rmi", "app:1")
    _, out = builder.build(context, "-t", "app:1")
    assert steps(out)["RUN cat late.txt >> artefact"] == "CACHED"
    pruned = builder.run("builder", "prune", "-f").stdout.decode()
    assert (
        "Deleted build cache objects:" in pruned and "Deleted build cache objects: 0" not in pruned
    )
    _, out = builder.build(context, "-t", "app:1")
    assert steps(out)["RUN cat late.txt >> artefact"] == "DONE"


def test_failing_run_shows_output_and_code_and_leaves_nothing(
    builder: Builder, context: Path
) -> None:
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\nRUN echo partial > /p && echo oops-output && exit 7\n"
    )
    engine = Engine(Settings.resolve(builder.root))
    before = {s.name for s in engine.snapshotter.walk()}
    code, out = builder.build(context, "-t", "broken", check=False)
    assert code == 1
    assert "oops-output" in out and "exit code: 7" in out
    assert builder.run("inspect", "broken", check=False).returncode != 0
    after = {s.name for s in engine.snapshotter.walk()}
    assert after == before
    assert not list((builder.root / "tmp" / "build").iterdir())
