"""Time the docker CLI against Dockyard's daemon and against dockerd: ``docker run --rm
busybox true``, and ``docker ps -a`` with 50 containers present.

    .venv/bin/python bench/daemon.py [--repeat 10] [--containers 50] [--running]

Dockyard runs as ``python -m dockyard --root ROOT daemon -H unix://ROOT/d.sock`` on a private
data root in a temporary directory; the real Docker daemon is measured when
``/var/run/docker.sock`` answers (start Debian's ``dockerd &`` first; this script never starts
or stops it). Both get the same image, the host's static busybox (Debian's busybox-static)
imported as ``dockyard-bench/daemon-busybox:1``, and the same ``docker`` client, so the
difference is the daemon's. Runs alternate between the daemons so a busy host slows both
alike. The containers made for ``ps`` carry a label and are removed afterwards, with the image
if this script imported it into dockerd; Dockyard's root goes with its default network.
Prints medians, the ratio dockyard/docker (the goal: at most 0.5) and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from _common import DOCKYARD, REPO, remove_default_network, report

from _helpers.daemon import answers_ping

TAG = "dockyard-bench/daemon-busybox:1"
LABEL = "dockyard-bench=daemon"
DOCKERD_SOCK = Path("/var/run/docker.sock")
PYTHON = str(REPO / ".venv" / "bin" / "python")


def run(cmd: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run *cmd*; on failure show its stderr (a benchmark must not hide a daemon's error)."""
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc


def _client_env(sock: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return {**env, "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(config)}


@contextmanager
def dockyard_daemon(tmp: Path) -> Iterator[dict[str, str]]:
    """A Dockyard daemon on its own root; yields its clients' environment. On the way out:
    the daemon stopped, the containers it leaves removed, the root's default network gone."""
    root, sock, log = tmp / "root", tmp / "d.sock", tmp / "daemon.log"
    root.mkdir()
    (tmp / "daemon-config").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_") and k != "DOCKYARD_ROOT"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([PYTHON, "-m", "dockyard", "--root", str(root), "daemon", "-H",
                                 f"unix://{sock}"], stdout=out, stderr=subprocess.STDOUT,
                                env={**env, "DOCKER_CONFIG": str(tmp / "daemon-config")})  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not answers_ping(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Dockyard daemon did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield _client_env(sock, tmp / "client-config")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        dy = [DOCKYARD, "--root", str(root)]
        ids = subprocess.run([*dy, "ps", "-aq", "--no-trunc"], capture_output=True, env=env)
        if ids.stdout.split():
            subprocess.run([*dy, "rm", "-f", *ids.stdout.decode().split()], capture_output=True,
                           env=env)  # fmt: skip
        remove_default_network(root)


def _image_tar(tmp: Path) -> Path:
    from _helpers.images import busybox_rootfs, tar_dir

    tar = tmp / "busybox.tar"
    tar.write_bytes(tar_dir(busybox_rootfs(tmp / "rootfs")))
    return tar


def _has_image(env: dict[str, str]) -> bool:
    return run(["docker", "image", "inspect", TAG], env, check=False).returncode == 0


def _remove_labelled(env: dict[str, str]) -> None:
    ids = run(["docker", "ps", "-aq", "--filter", f"label={LABEL}"], env, check=False)
    if ids.stdout.split():
        run(["docker", "rm", "-f", *ids.stdout.decode().split()], env, check=False)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--running", action="store_true",
                        help="the ps containers run (sleep 1000) instead of being only created")
    args = parser.parse_args()
    # ship compiled bytecode: this environment sets PYTHONDONTWRITEBYTECODE
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], capture_output=True)
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-daemon-") as tmpdir:
        tmp = Path(tmpdir)
        tar = _image_tar(tmp)
        engines: dict[str, dict[str, str]] = {}
        imported: list[dict[str, str]] = []
        with dockyard_daemon(tmp) as dy_env:
            engines["dockyard"] = dy_env
            if answers_ping(DOCKERD_SOCK):
                engines["docker"] = _client_env(DOCKERD_SOCK, tmp / "client-config")
            else:
                print("dockerd is not running (/var/run/docker.sock): timing Dockyard only")
            try:
                for env in engines.values():
                    if not _has_image(env):
                        run(["docker", "import", "--change", 'CMD ["sh"]', str(tar), TAG], env)
                        imported.append(env)
                for env in engines.values():  # warm caches once
                    run(["docker", "run", "--rm", TAG, "true"], env)
                _time_all(engines, args)
            finally:
                for env in engines.values():
                    _remove_labelled(env)
                for env in imported:
                    if env is not dy_env:
                        run(["docker", "image", "rm", TAG], env, check=False)
    print(f"load average after: {_load()}")


def _time_all(engines: dict[str, dict[str, str]], args: argparse.Namespace) -> None:
    rm_true: dict[str, list[float]] = {}
    for _ in range(args.repeat):  # interleaved: dockyard, docker, dockyard, ...
        for name, env in engines.items():
            t0 = time.perf_counter()
            run(["docker", "run", "--rm", TAG, "true"], env)
            rm_true.setdefault(name, []).append(time.perf_counter() - t0)
    report("docker run --rm busybox true", {n: statistics.median(v) for n, v in rm_true.items()})

    verb = ["run", "-d"] if args.running else ["create"]
    for env in engines.values():
        for _ in range(args.containers):
            run(["docker", *verb, "--label", LABEL, TAG, "sleep", "1000"], env)
    listed = {n: len(run(["docker", "ps", "-aq"], env).stdout.split()) for n, env in engines.items()}
    ps: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for name, env in engines.items():
            t0 = time.perf_counter()
            run(["docker", "ps", "-a"], env)
            ps.setdefault(name, []).append(time.perf_counter() - t0)
    state = "running" if args.running else "created"
    counts = ", ".join(f"{n} lists {c}" for n, c in listed.items())
    report(f"docker ps -a with {args.containers} {state} containers ({counts})",
           {n: statistics.median(v) for n, v in ps.items()})


if __name__ == "__main__":
    main()
