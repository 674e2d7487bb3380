"""Time `save` and `load` of a ~200 MB, 5-layer image: Dockyard vs docker and podman.

    .venv/bin/python bench/save_load.py [--repeat 3] [--mb 200]

The image is generated (deterministic data: half many small files, half large ones, partly
incompressible), written as a classic `docker save` archive with uncompressed layers, and
loaded into each engine from scratch (the image removed between runs), then saved. Rounds
are interleaved, each engine once per round. Prints medians and ratios; engines that are
not installed or not running are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import DOCKYARD, docker_available, podman_available, report, run, timed

TAG = "dockyard-bench/saveload:1"


def _layer(index: int, megabytes: int, salt: str = "") -> bytes:
    rng = random.Random(f"{salt}{index}")
    buf = io.BytesIO()
    half = megabytes * 1024 * 1024 // 2
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))

        d = tarfile.TarInfo(f"layer{index}")
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        tar.addfile(d)
        small = 0
        n = 0
        while small < half:
            size = rng.randint(512, 16384)
            text = (f"{salt}layer {index} file {n} " * (size // 16 + 1)).encode()[:size]
            add(f"layer{index}/small/{n // 100}/{n}.txt", text)
            small += size
            n += 1
        add(f"layer{index}/big-random.bin", rng.randbytes(half // 2))
        add(f"layer{index}/big-text.bin", (b"0123456789abcdef" * (half // 32 + 1))[: half // 2])
    return buf.getvalue()


def make_archive(path: Path, megabytes: int, salt: str = "") -> None:
    """Write the image as an archive; a *salt* makes layers no engine has seen before."""
    layers = [_layer(i, megabytes // 5, salt) for i in range(5)]
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"} for i in range(5)],
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add(config_name, config)
        names = []
        for diff_id, layer in zip(diff_ids, layers, strict=True):
            name = f"{diff_id.split(':')[1]}/layer.tar"
            add(name, layer)
            names.append(name)
        add("manifest.json", json.dumps([{"Config": config_name, "RepoTags": [TAG], "Layers": names}]).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    # Dockyard's root lives where engines keep their data (/var/lib, as docker's and podman's
    # do), not in /tmp, where every test suite of the host churns inodes.
    data = Path(tempfile.mkdtemp(prefix="dockyard-bench-", dir=_data_parent()))
    archive = work / "image.tar"
    # Fresh layers each run: an engine that kept a layer from an earlier run would skip it.
    make_archive(archive, args.mb, salt=os.urandom(8).hex())
    print(f"archive: {archive.stat().st_size / 1e6:.0f} MB, 5 layers")
    root = data / "root"
    engines = {"dockyard": [DOCKYARD, "--root", str(root)]}
    for engine, ok in (("docker", docker_available()), ("podman", podman_available())):
        if ok:
            engines[engine] = [engine]
        else:
            print(f"{engine}: not available, skipped")
    # Rounds are interleaved (each engine once per round) so that drift in the host's load
    # hits every engine alike; each engine's figure is its median over the rounds.
    load_times: dict[str, list[float]] = {e: [] for e in engines}
    save_times: dict[str, list[float]] = {e: [] for e in engines}
    try:
        for _ in range(args.repeat):
            for engine, cmd in engines.items():
                subprocess.run([*cmd, "rmi", "-f", TAG], capture_output=True)
                load_times[engine].append(timed(lambda c=cmd: run([*c, "load", "-i", str(archive)]), 1))
                out = work / f"{engine}-save.tar"
                out.unlink(missing_ok=True)
                save_times[engine].append(timed(lambda c=cmd, o=out: run([*c, "save", "-o", str(o), TAG]), 1))
                print(f"  {engine}: load {load_times[engine][-1]:.2f} s, save {save_times[engine][-1]:.2f} s",
                      flush=True)
    finally:
        for cmd in engines.values():
            subprocess.run([*cmd, "rmi", "-f", TAG], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    report(f"load of a {args.mb} MB, 5-layer image (lower is better)",
           {e: statistics.median(t) for e, t in load_times.items()})
    report(f"save of a {args.mb} MB, 5-layer image (lower is better)",
           {e: statistics.median(t) for e, t in save_times.items()})


def _data_parent() -> str:
    return "/var/lib" if os.access("/var/lib", os.W_OK) else tempfile.gettempdir()


if __name__ == "__main__":
    main()
