"""Time container start-up: ``run --rm busybox true``, ``run -d`` + ``rm -f`` and ``exec
true``, Dockyard vs docker and podman; and the per-container monitor's memory (PSS) vs
containerd-shim's.

    .venv/bin/python bench/run.py [--repeat 10] [--runtime builtin]

The same busybox image (``docker save busybox`` when docker has it, else the host's static
busybox) is loaded into each engine under the tag ``dockyard-bench/run-busybox:1``. Dockyard uses a
private data root in a temporary directory. Prints medians and ratios; engines that are not
installed or not running are skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from _common import DOCKYARD, docker_available, podman_available, remove_default_network, report


def run(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run *cmd*; on failure show its stderr (a benchmark must not hide an engine's error)."""
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc


TAG = "dockyard-bench/run-busybox:1"


def _image_tar(tmp: Path, have_docker: bool) -> Path:
    tar = tmp / "busybox.tar"
    if have_docker and subprocess.run(["docker", "image", "inspect", "busybox"],
                                      capture_output=True).returncode == 0:  # fmt: skip
        run(["docker", "tag", "busybox", TAG])
        run(["docker", "save", "-o", str(tar), TAG])
        return tar
    from _helpers.images import busybox_rootfs, tar_dir

    raw = tmp / "raw.tar"
    raw.write_bytes(tar_dir(busybox_rootfs(tmp / "rootfs")))
    return raw


def _pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _children_named(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _exec_medians(engines: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median of ``exec CONTAINER true`` per engine, interleaved, one container each."""
    boxes = {n: run([*c, "run", "-d", TAG, "sleep", "300"]).stdout.decode().strip()
             for n, c in engines.items()}  # fmt: skip
    times: dict[str, list[float]] = {n: [] for n in engines}
    try:
        for _ in range(repeat):
            for name, cmd in engines.items():
                t0 = time.perf_counter()
                run([*cmd, "exec", boxes[name], "true"])
                times[name].append(time.perf_counter() - t0)
    finally:
        for name, cmd in engines.items():
            subprocess.run([*cmd, "rm", "-f", boxes[name]], capture_output=True)
    return {n: statistics.median(v) for n, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runtime", default="builtin")
    args = parser.parse_args()
    have_docker, have_podman = docker_available(), podman_available()
    # ship compiled bytecode: this environment sets PYTHONDONTWRITEBYTECODE
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(DOCKYARD).parents[2] / "src")],
                   capture_output=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-run-") as tmpdir:
        tmp = Path(tmpdir)
        root = tmp / "root"
        dy = [DOCKYARD, "--root", str(root)]
        try:
            tar = _image_tar(tmp, have_docker)
            if tar.name == "raw.tar":
                run([*dy, "import", str(tar), TAG])
            else:
                run([*dy, "load", "-i", str(tar)])
            engines: dict[str, list[str]] = {"dockyard": [*dy]}
            run_flags = {"dockyard": ["--runtime", args.runtime]}
            if have_docker:
                engines["docker"] = ["docker"]
            if have_podman:
                if subprocess.run(["podman", "image", "exists", TAG]).returncode != 0:
                    run(["podman", "load", "-i", str(tar)]) if tar.name != "raw.tar" else run(
                        ["podman", "import", str(tar), TAG])  # fmt: skip
                engines["podman"] = ["podman"]

            for name, cmd in list(engines.items()):  # warm caches once; drop engines that fail
                proc = subprocess.run([*cmd, "run", "--rm", TAG, "true"], capture_output=True)
                if proc.returncode != 0:
                    print(f"{name} cannot run containers here: {proc.stderr.decode().strip()}")
                    del engines[name]
            # Interleaved (engine A, B, A, B, ...) so a busy host slows every engine alike.
            samples: dict[str, dict[str, list[float]]] = {"rm": {}, "d": {}}
            for _ in range(args.repeat):
                for name, cmd in engines.items():
                    flags = run_flags.get(name, [])
                    t0 = time.perf_counter()
                    run([*cmd, "run", *flags, "--rm", TAG, "true"])
                    t1 = time.perf_counter()
                    cid = (
                        run([*cmd, "run", *flags, "-d", TAG, "sleep", "30"]).stdout.decode().strip()
                    )
                    run([*cmd, "rm", "-f", cid])
                    t2 = time.perf_counter()
                    samples["rm"].setdefault(name, []).append(t1 - t0)
                    samples["d"].setdefault(name, []).append(t2 - t1)
            rm_true = {n: statistics.median(v) for n, v in samples["rm"].items()}
            detached = {n: statistics.median(v) for n, v in samples["d"].items()}
            report("run --rm busybox true", rm_true)
            report("run -d busybox sleep 30 + rm -f", detached)
            report("exec true (in a running container)", _exec_medians(engines, args.repeat))

            print("\nper-container monitor memory (PSS)")
            cid = (
                run([*dy, "run", *run_flags["dockyard"], "-d", TAG, "sleep", "30"])
                .stdout.decode()
                .strip()
            )
            time.sleep(0.5)
            shims = [p for p in _children_named("dockyard.runtime.shim") if
                     cid in Path(f"/proc/{p}/cwd").resolve().as_posix()]  # fmt: skip
            for pid in shims:
                print(f"  dockyard shim     pid {pid}: PSS {_pss_kib(pid) / 1024:.1f} MiB")
            run([*dy, "rm", "-f", cid])
            if have_docker:
                proc = subprocess.run(
                    ["docker", "run", "-d", TAG, "sleep", "30"], capture_output=True
                )
                if proc.returncode != 0:
                    print(f"  docker run -d failed: {proc.stderr.decode().strip()}")
                    return
                dcid = proc.stdout.decode().strip()
                time.sleep(0.5)
                for pid in _children_named(f"containerd-shim.*{dcid}") or _children_named(
                    "containerd-shim"
                ):
                    try:
                        print(f"  containerd-shim   pid {pid}: PSS {_pss_kib(pid) / 1024:.1f} MiB")
                    except OSError:
                        continue
                run(["docker", "rm", "-f", dcid])
            os.sync()

        finally:  # a failed run must not leave containers behind its temporary root
            ids = subprocess.run([*dy, "ps", "-aq", "--no-trunc"], capture_output=True)
            if ids.stdout.split():
                subprocess.run([*dy, "rm", "-f", *ids.stdout.decode().split()], capture_output=True)
            remove_default_network(root)


if __name__ == "__main__":
    main()
