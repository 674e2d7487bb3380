"""An image built by Dockyard, saved and loaded into Docker, runs there with the same history."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from build_test_helpers import BASE, Builder


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_works(), reason="no working docker daemon")
def test_built_image_runs_in_docker_with_the_same_history(
    builder: Builder, context: Path, tmp_path: Path
) -> None:
    (context / "msg").write_text("hello from a dockyard build\n")
    (context / "Dockerfile").write_text(
        f"FROM {BASE} AS build\nRUN echo compiled > /artefact\n"
        f"FROM {BASE}\nCOPY --from=build /artefact /artefact\nCOPY msg /msg\n"
        "ENV MODE=prod\nLABEL org.example=yes\nCMD cat /msg /artefact\n"
    )
    tag = f"dockyard-build-interop-{uuid.uuid4().hex[:8]}:1"
    builder.build(context, "-t", tag)
    archive = tmp_path / "image.tar"
    builder.run("save", tag, "-o", str(archive))
    ours = builder.run("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", tag)
    try:
        subprocess.run(
            ["docker", "load", "-i", str(archive)], check=True, capture_output=True, timeout=120
        )
        run = subprocess.run(["docker", "run", "--rm", tag], capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout == b"hello from a dockyard build\ncompiled\n"
        theirs = subprocess.run(["docker", "history", "--no-trunc", "--format",
                                 "{{.CreatedBy}}|{{.Comment}}", tag],
                                capture_output=True, check=True, timeout=60)  # fmt: skip
        assert theirs.stdout.decode().splitlines() == ours.stdout.decode().splitlines()
        inspect = json.loads(subprocess.run(["docker", "inspect", tag], capture_output=True,
                                            check=True).stdout)[0]  # fmt: skip
        assert "MODE=prod" in inspect["Config"]["Env"]
        assert inspect["Config"]["Labels"] == {"org.example": "yes"}
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
