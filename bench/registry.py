"""Time `pull` from and `push` to a local registry: Dockyard vs docker and podman.

    .venv/bin/python bench/registry.py [--repeat 3] [--mb 200] [--only pull|push]

A real `docker-registry` (Debian's distribution) listens on 127.0.0.1 at a random port with
temporary storage. The generated ~200 MB, 5-layer image of `save_load.py` is pushed into it
once with skopeo (gzip layers, as registries usually serve them); its layers are seeded
per run, so no engine already holds them. Then:

- pull: each engine pulls it from a clean state (the image removed; for Dockyard a fresh
  ``--root``), so every run downloads, decompresses and unpacks all five layers;
- push: each engine pushes the image (pulled beforehand, untimed) to an EMPTY registry
  (a new one is started before each run), so every run uploads all blobs.

docker treats 127.0.0.0/8 registries as insecure by default; podman gets
``--tls-verify=false``. Engines that are not installed or not running are skipped. Prints
medians and ratios (the issue's goals: Dockyard pull <= 0.6x docker's, push <= 0.6x podman's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCKYARD, docker_available, podman_available, report, run, timed
from save_load import TAG as ARCHIVE_TAG
from save_load import make_archive

REPO_NAME = "dockyard-bench/registry"


class LocalRegistry:
    """One `docker-registry serve` on 127.0.0.1 with its own storage; restartable empty."""

    def __init__(self, work: Path, name: str) -> None:
        self.dir = work / name
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = ""

    def start(self) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            sys.exit("docker-registry is not installed (apt-get install docker-registry)")
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "storage").mkdir(parents=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = self.dir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.dir / 'storage'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n  secret: dockyard-bench\n"
        )
        log = open(self.dir / "registry.log", "wb")  # noqa: SIM115 - kept for the process
        self.proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.02)
        else:
            raise RuntimeError("registry did not start")
        self.host = f"127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--only", choices=["pull", "push"])
    parser.add_argument("--engines", default="dockyard,docker,podman")
    parser.add_argument("--kept-root", action="store_true",
                        help="also time Dockyard pulling into one root, the image removed with"
                        " `rmi` between runs (as docker and podman are reset), row dy-rmi")
    args = parser.parse_args()
    wanted = set(args.engines.split(","))
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    source = LocalRegistry(work, "source")
    target = LocalRegistry(work, "target")
    engines = {"dockyard": "dockyard" in wanted}
    created: dict[str, list[str]] = {"docker": [], "podman": []}
    cleanup: list[Path] = []
    for engine, ok in (("docker", docker_available()), ("podman", podman_available())):
        engines[engine] = ok and engine in wanted
        if not ok:
            print(f"{engine}: not available, skipped")
    try:
        archive = work / "image.tar"
        # Layers of this run's own salt: an engine still holding layers of an earlier run (or of
        # the save/load benchmark) would otherwise skip their download ("Already exists").
        make_archive(archive, args.mb, salt=os.urandom(8).hex())
        source.start()
        image = f"{source.host}/{REPO_NAME}:1"
        run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
             f"docker-archive:{archive}:{ARCHIVE_TAG}", f"docker://{image}"])
        archive.unlink()
        print(f"image {image}: {_blob_bytes(source) / 1e6:.0f} MB of gzip layers, 5 layers")
        # Rounds are interleaved (each engine once per round) so that drift in the host's
        # load hits every engine alike; each engine's figure is its median over the rounds.
        pull_runs: dict[str, list[Callable[[], None]]] = {}
        push_runs: dict[str, list[Callable[[], None]]] = {}
        # Dockyard's roots live where engines keep their data (/var/lib, as docker's and
        # podman's do), not in /tmp, where every test suite of the host churns inodes.
        roots_dir = Path(tempfile.mkdtemp(prefix="dockyard-bench-", dir=_data_parent()))
        cleanup.append(roots_dir)
        roots = iter(roots_dir / f"root{i}" for i in range(1000))
        state = {"root": next(roots)}

        def dy(*a: str) -> None:
            run([DOCKYARD, "--root", str(state["root"]), *a])

        def fresh_root() -> None:
            # Like `docker rmi` for the others: the previous run's files are deleted now
            # (untimed), then a new, empty --root is used.
            shutil.rmtree(state["root"], ignore_errors=True)
            state["root"] = next(roots)

        def dy_push() -> None:
            dest = f"{target.host}/{REPO_NAME}:1"
            dy("tag", image, dest)
            dy("push", "-q", dest)

        def dy_push_setup() -> None:
            fresh_root()
            dy("pull", "-q", image)
            target.start()

        kept_root = roots_dir / "kept"

        def dy_kept(*a: str) -> None:
            run([DOCKYARD, "--root", str(kept_root), *a])

        def dy_rmi() -> None:
            subprocess.run([DOCKYARD, "--root", str(kept_root), "rmi", "-f", image],
                           capture_output=True)

        if engines["dockyard"]:
            pull_runs["dockyard"] = [fresh_root, lambda: dy("pull", "-q", image)]
            push_runs["dockyard"] = [dy_push_setup, dy_push]
            if args.kept_root:
                pull_runs["dy-rmi"] = [dy_rmi, lambda: dy_kept("pull", "-q", image)]
        for engine in ("docker", "podman"):
            if not engines[engine]:
                continue
            tls = ["--tls-verify=false"] if engine == "podman" else []

            def reset(engine: str = engine) -> None:
                for name in dict.fromkeys([image, *created[engine]]):
                    subprocess.run([engine, "rmi", "-f", name], capture_output=True)
                created[engine].clear()

            def do_pull(engine: str = engine, tls: list[str] = tls) -> None:
                created[engine].append(image)
                run([engine, "pull", "-q", *tls, image])

            def push_setup(engine: str = engine, tls: list[str] = tls) -> None:
                reset(engine)
                do_pull(engine, tls)
                target.start()

            def push(engine: str = engine, tls: list[str] = tls) -> None:
                dest = f"{target.host}/{REPO_NAME}:1"
                run([engine, "tag", image, dest])
                created[engine].append(dest)
                run([engine, "push", "-q", *tls, dest] if engine == "podman"
                    else [engine, "push", dest])

            pull_runs[engine] = [reset, do_pull]
            push_runs[engine] = [push_setup, push]
        pulls = _rounds(pull_runs, args.repeat) if args.only != "push" else {}
        pushes = _rounds(push_runs, args.repeat) if args.only != "pull" else {}
        if pulls:
            report(f"pull of a {args.mb} MB, 5-layer image from a local registry "
                   "(lower is better)", pulls)
        if pushes:
            report(f"push of a {args.mb} MB, 5-layer image to an empty local registry "
                   "(lower is better)", pushes)
    finally:
        for engine, names in created.items():  # only what this run made, by name
            for name in dict.fromkeys(names):
                subprocess.run([engine, "rmi", "-f", name], capture_output=True)
        source.stop()
        target.stop()
        for path in [work, *cleanup]:
            shutil.rmtree(path, ignore_errors=True)


def _data_parent() -> str:
    return "/var/lib" if os.access("/var/lib", os.W_OK) else tempfile.gettempdir()


def _rounds(runs: dict[str, list[Callable[[], None]]], repeat: int) -> dict[str, float]:
    """Median seconds per engine; each round runs every engine's (setup, timed) once."""
    times: dict[str, list[float]] = {engine: [] for engine in runs}
    for _ in range(repeat):
        for engine, (setup, fn) in runs.items():
            times[engine].append(timed(fn, 1, setup))
            print(f"  {engine}: {times[engine][-1]:.2f} s", flush=True)
    return {engine: statistics.median(values) for engine, values in times.items()}


def _blob_bytes(reg: LocalRegistry) -> int:
    blobs = reg.dir / "storage" / "docker" / "registry" / "v2" / "blobs"
    return sum(p.stat().st_size for p in blobs.rglob("data"))


if __name__ == "__main__":
    main()
