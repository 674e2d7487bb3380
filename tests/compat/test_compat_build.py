"""``docker build`` with the legacy builder (``DOCKER_BUILDKIT=0``) through the daemon: steps,
the cache on a rebuild, tags, build args, a failing step, and the image running. Root: the
builder mounts overlays and RUN runs a container."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from compat_daemon import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="building images needs root")


@pytest.fixture
def busybox(daemon: Daemon, busybox_tar: Path) -> str:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    return "busybox:latest"


def _legacy(daemon: Daemon, *args: str, check: bool = True) -> tuple[int, str, str]:
    env = {**daemon.env, "DOCKER_BUILDKIT": "0"}
    proc = subprocess.run(["docker", "build", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker build exited {proc.returncode}:\n{proc.stderr}")
    return proc.returncode, proc.stdout, proc.stderr


def test_legacy_build_twice_uses_the_cache_and_the_image_runs(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "greeting.txt").write_text("hello from the context\n")
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nARG WHO=nobody\nCOPY greeting.txt /greeting.txt\n"
        "RUN echo \"built for $WHO\" > /who.txt\nCMD [\"cat\", \"/greeting.txt\", \"/who.txt\"]\n"
    )
    _, first, _ = _legacy(daemon, "-t", "app:1", "--build-arg", "WHO=alice", str(ctx))
    assert "Step 1/" in first and ": FROM busybox" in first
    assert "Using cache" not in first
    built = [line for line in first.splitlines() if line.startswith("Successfully built ")]
    assert len(built) == 1
    short = built[0].split()[-1]
    assert first.rstrip().endswith("Successfully tagged app:1")
    image = json.loads(daemon.docker("image", "inspect", "app:1").stdout)[0]
    assert image["Id"].removeprefix("sha256:").startswith(short)
    _, second, _ = _legacy(daemon, "-t", "app:2", "--build-arg", "WHO=alice", str(ctx))
    assert second.count(" ---> Using cache") == 2  # the COPY and the RUN
    assert f"Successfully built {short}" in second  # same steps, same image
    run = daemon.docker("run", "--rm", "--network", "none", "app:2")
    assert run.stdout == "hello from the context\nbuilt for alice\n"
    assert daemon.dockyard("images", "-q", "app").stdout.split() == [short]
    quiet = _legacy(daemon, "-q", "--build-arg", "WHO=alice", str(ctx))[1]
    assert quiet.strip() == image["Id"]


def test_a_failing_step_exits_non_zero_and_tags_nothing(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo about to fail; exit 3\n")
    # without DOCKER_BUILDKIT and without buildx, the CLI picks the legacy builder itself
    proc = daemon.docker("build", "-t", "broken", str(ctx), check=False)
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    assert code == 3  # the RUN's exit code, as dockerd's legacy builder reports it
    assert "about to fail" in out
    assert "exit code: 3" in err
    missing = daemon.docker("image", "inspect", "broken", check=False)
    assert missing.returncode == 1 and "No such image" in missing.stderr
