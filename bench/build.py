"""Time `build`: cold, fully cached, and one-late-change builds, Dockyard vs docker and podman.

    .venv/bin/python bench/build.py [--repeat 3] [--only tiny,multistage,layers40,context50]

Reference Dockerfiles (all FROM a busybox image made from the host's static busybox and
imported into every engine):

* ``tiny``: one COPY, one RUN, CMD.
* ``multistage``: two independent build stages (each a RUN that takes ~1 s) and a final
  stage copying from both: BuildKit-style builders run the two stages at once.
* ``layers40``: 40 RUN steps, each a layer.
* ``context50``: a 50 MB context, half of it excluded by ``.dockerignore``, copied in.

Every Dockerfile ends with ``COPY late.txt /late.txt``; the one-late-change build rewrites
that file. Cold builds use ``--no-cache``. Engines: dockyard (a private data root), docker's
legacy builder (``DOCKER_BUILDKIT=0``), docker BuildKit (when ``docker buildx`` exists) and
podman (when installed). Prints medians and ratios; missing engines are skipped.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import DOCKYARD, docker_available, podman_available, report, run, timed

from _helpers.images import busybox_rootfs, tar_dir

BASE = "dockyard-bench/busybox:1"
TAG = "dockyard-bench/build:1"

DOCKERFILES = {
    "tiny": f'FROM {BASE}\nCOPY app.txt /app.txt\nRUN wc -c /app.txt > /size\nCMD ["cat", "/size"]\n',
    "multistage": (
        f"FROM {BASE} AS one\nRUN sleep 1 && echo one > /one\n"
        f"FROM {BASE} AS two\nRUN sleep 1 && echo two > /two\n"
        f"FROM {BASE}\nCOPY --from=one /one /one\nCOPY --from=two /two /two\n"
    ),
    "layers40": f"FROM {BASE}\n" + "".join(f"RUN echo {i} > /layer{i}\n" for i in range(40)),
    "context50": f"FROM {BASE}\nCOPY . /ctx\nRUN du -s /ctx\n",
}


def _context(root: Path, name: str) -> Path:
    ctx = root / name
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILES[name] + "COPY late.txt /late.txt\n")
    (ctx / "late.txt").write_text("late 0\n")
    (ctx / "app.txt").write_text("hello\n")
    if name == "context50":
        rng = random.Random(50)
        for part in ("keep", "skip"):
            for i in range(25):
                (ctx / part).mkdir(exist_ok=True)
                (ctx / part / f"f{i}.bin").write_bytes(rng.randbytes(1 << 20))
        (ctx / ".dockerignore").write_text("skip\n")
    return ctx


class Engine:
    def __init__(self, name: str, build: list[str], env: dict[str, str] | None = None,
                 clean: Callable[[], object] | None = None) -> None:  # fmt: skip
        self.name = name
        self.build_cmd = build
        self.env = {**os.environ, **(env or {})}
        self.clean = clean or (lambda: None)

    def build(self, ctx: Path, *extra: str) -> None:
        try:
            run([*self.build_cmd, *extra, "-t", TAG, str(ctx)], env=self.env)
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"{self.name} build failed: {exc.stderr.decode()[-2000:]}") from exc


def _engines(work: Path, busybox: Path) -> list[Engine]:
    root = work / "dockyard-root"
    dy = [DOCKYARD, "--root", str(root)]
    run([*dy, "import", str(busybox), BASE])
    engines = [Engine("dockyard", [*dy, "build", "-q"])]
    if docker_available():
        run(["docker", "import", str(busybox), BASE])
        engines.append(Engine("docker", ["docker", "build", "-q"], {"DOCKER_BUILDKIT": "0"}))
        if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
            engines.append(Engine("buildkit", ["docker", "buildx", "build", "--load", "-q"]))
    if podman_available():
        run(["podman", "import", str(busybox), BASE])
        # crun refuses this host's hybrid cgroup layout; runc runs the very same steps
        engines.append(Engine("podman", ["podman", "--runtime", "runc", "build", "-q", "--layers"]))
    return engines


def _cleanup(work: Path, engines: list[Engine]) -> None:
    names = {e.name for e in engines}
    if "docker" in names or "buildkit" in names:
        subprocess.run(["docker", "rmi", "-f", TAG, BASE], capture_output=True)
        subprocess.run(["docker", "image", "prune", "-f"], capture_output=True)
    if "podman" in names:
        subprocess.run(["podman", "rmi", "-f", TAG, BASE], capture_output=True)
        subprocess.run(["podman", "image", "prune", "-f"], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)


def _measure(engine: Engine, ctx: Path, repeat: int) -> tuple[float, float, float]:
    """Median seconds of a cold, a fully cached and a one-late-change build."""
    cold = timed(lambda: engine.build(ctx, "--no-cache"), repeat)
    engine.build(ctx)  # warm the cache
    cached = timed(lambda: engine.build(ctx), repeat)
    counter = iter(range(1, 1000))

    def change() -> None:
        (ctx / "late.txt").write_text(f"late {next(counter)}\n")

    late = timed(lambda: engine.build(ctx), repeat, setup=change)
    return cold, cached, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(DOCKERFILES))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-build-"))
    rootfs = busybox_rootfs(work / "rootfs")
    busybox = work / "busybox.tar"
    busybox.write_bytes(tar_dir(rootfs))
    engines = _engines(work, busybox)
    try:
        for name in args.only.split(","):
            ctx = _context(work, name)
            cold: dict[str, float] = {}
            cached: dict[str, float] = {}
            late: dict[str, float] = {}
            for engine in engines:
                cold[engine.name], cached[engine.name], late[engine.name] = _measure(
                    engine, ctx, args.repeat
                )
            report(f"{name}: cold build (--no-cache)", cold)
            report(f"{name}: fully cached build", cached)
            report(f"{name}: one late change", late)
    finally:
        _cleanup(work, engines)


if __name__ == "__main__":
    main()
