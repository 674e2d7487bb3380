"""Published-port throughput on loopback, and the time network set-up adds to a container.

    .venv/bin/python bench/network.py [--size-mb 1024] [--repeat 3] [--attach-repeat 30]

Throughput: a client on the host sends SIZE bytes to ``127.0.0.1:PORT``, published (``-p``) to
a sink in a container (a 20-line static C program reading 1 MiB at a time, compiled here: busybox
nc caps the transfer itself), and waits until the sink closes: Dockyard (kernel
DNAT), docker (docker-proxy, the userland proxy loopback traffic goes through) and podman when
installed. Dockyard's "container" is a network namespace given its network by
``container_network.attach_container``, the very call the container service makes on start,
with the sink run inside it (the container CLI does not pass ``-p`` yet). Docker and podman run
an image of the host's busybox plus the sink (``docker import``).

Set-up time: median of ``attach_container`` (veth, address, route, published port, DNS names,
hosts/resolv.conf text) on the default bridge and on a user network, with detach untimed.
Dockyard's host objects use names of their own (table ``dockyard-bench``, bridge
``dockyard0bench``) and go at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import docker_available, podman_available, report, run

TAG = "dockyard-bench/netsink:1"
PORT = 5001
CHUNK = memoryview(b"\0" * (1 << 20))
# busybox nc reads in small pieces and caps a loopback transfer near 1.7 Gbit/s here, hiding
# the path under test; this static sink reads 1 MiB at a time, in every engine alike.
SINK_C = r"""
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
static char buf[1 << 20];
int main(int argc, char **argv) {
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 1;
    int c = accept(s, 0, 0);
    while (read(c, buf, sizeof buf) > 0) {}
    close(c);
    return 0;
}
"""


def build_sink(tmp: Path) -> Path:
    """The sink, compiled static (gcc and libc.a are needed)."""
    (tmp / "sink.c").write_text(SINK_C)
    out = tmp / "sink"
    run(["gcc", "-O2", "-static", "-o", str(out), str(tmp / "sink.c")])
    return out


def _image_tar(sink: Path) -> bytes:
    """A rootfs of the host's static busybox (``sh``, ``nc``) and the sink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add("/usr/bin/busybox", "bin/busybox")
        tar.add(str(sink), "bin/sink")
        for name in ("sh", "nc"):
            info = tarfile.TarInfo(f"bin/{name}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
    return buf.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(port: int, size: int, timeout: float = 120) -> float:
    """Seconds to push *size* bytes to 127.0.0.1:*port* and see the server close."""
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with sock:
        start = time.perf_counter()
        sent = 0
        while sent < size:
            sock.sendall(CHUNK)
            sent += len(CHUNK)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
        return time.perf_counter() - start


def bench_dockyard(size: int, repeat: int, sink: Path) -> float:
    """Seconds per transfer through Dockyard's DNAT (median)."""
    from dockyard.network._netns import new_netns, run_in_netns
    from dockyard.service.container_network import attach_container, detach_container

    engine = _engine()
    fd = new_netns()
    ns = f"/proc/{os.getpid()}/fd/{fd}"
    cid = "b" * 64
    times = []
    try:
        host_port = _free_port()
        attach_container(engine, cid, "sink", ns, "bridge", ports=[f"127.0.0.1:{host_port}:{PORT}"])
        for _ in range(repeat):
            nc = run_in_netns(ns, lambda: subprocess.Popen(
                [str(sink), str(PORT)], stdin=subprocess.DEVNULL))  # fmt: skip
            time.sleep(0.2)
            times.append(send(host_port, size))
            nc.wait(timeout=30)
    finally:
        detach_container(engine, cid)
        os.close(fd)
        _cleanup(engine)
    return statistics.median(times)


def _engine():  # type: ignore[no-untyped-def]
    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    os.environ["DOCKYARD_NFT_TABLE"] = "dockyard-bench"
    os.environ["DOCKYARD_DEFAULT_BRIDGE"] = "dockyard0bench"
    return Engine(Settings.resolve(ROOT))


def _cleanup(engine) -> None:  # type: ignore[no-untyped-def]
    manager = engine.networks.manager
    for net in manager.list_networks():
        if not net.default:
            manager.remove_network(net.id)
    manager.prune_default()


def bench_engine(cli: str, size: int, repeat: int) -> float:
    """Seconds per transfer through docker's or podman's ``-p`` (median)."""
    times = []
    for _ in range(repeat):
        host_port = _free_port()
        cid = run([cli, "run", "-d", "-p", f"127.0.0.1:{host_port}:{PORT}", TAG,
                   "/bin/sink", str(PORT)]).stdout.decode().strip()  # fmt: skip
        try:
            time.sleep(0.5)
            times.append(send(host_port, size))
        finally:
            subprocess.run([cli, "rm", "-f", cid], capture_output=True)
    return statistics.median(times)


def bench_attach(repeat: int) -> dict[str, float]:
    """Median seconds of ``attach_container`` on the default bridge (with ``-p``) and on a
    user network (with its DNS)."""
    from dockyard.network._netns import new_netns
    from dockyard.service.container_network import attach_container, detach_container

    engine = _engine()
    results: dict[str, float] = {}
    try:
        engine.networks.create("benchnet")
        cases: dict[str, Callable[[str, str], object]] = {
            "default bridge + -p": lambda cid, ns: attach_container(
                engine, cid, "c", ns, "bridge", ports=["80"], hostname="c"),
            "user network": lambda cid, ns: attach_container(
                engine, cid, "c", ns, "benchnet", hostname="c"),
        }  # fmt: skip
        for label, attach in cases.items():
            times = []
            for i in range(repeat + 1):
                fd = new_netns()
                cid = f"{i:064x}"
                start = time.perf_counter()
                attach(cid, f"/proc/{os.getpid()}/fd/{fd}")
                elapsed = time.perf_counter() - start
                detach_container(engine, cid)
                os.close(fd)
                if i:  # the first pays for creating the bridge / starting the DNS helper
                    times.append(elapsed)
            results[label] = statistics.median(times)
    finally:
        _cleanup(engine)
    return results


ROOT = ""


def main() -> None:
    global ROOT
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--attach-repeat", type=int, default=30)
    args = parser.parse_args()
    size = args.size_mb << 20
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-network-") as tmp:
        ROOT = str(Path(tmp) / "root")
        sink = build_sink(Path(tmp))
        results = {"dockyard": bench_dockyard(size, args.repeat, sink)}
        for cli, available in (("docker", docker_available), ("podman", podman_available)):
            if not available():
                continue
            subprocess.run([cli, "import", "-", TAG], input=_image_tar(sink), check=True,
                           capture_output=True)  # fmt: skip
            try:
                results[cli] = bench_engine(cli, size, args.repeat)
            except (subprocess.CalledProcessError, OSError) as exc:
                err = getattr(exc, "stderr", b"") or b""
                print(f"{cli}: skipped ({exc}; {err.decode(errors='replace').strip()[-120:]})")
            finally:  # a failed run may leave a created container behind
                left = subprocess.run([cli, "ps", "-aq", "--filter", f"ancestor={TAG}"],
                                      capture_output=True, text=True).stdout.split()  # fmt: skip
                if left:
                    subprocess.run([cli, "rm", "-f", *left], capture_output=True)
                subprocess.run([cli, "rmi", TAG], capture_output=True)
        report(f"published port on 127.0.0.1, {args.size_mb} MiB per transfer (lower is better)",
               results)  # fmt: skip
        for engine, seconds in results.items():
            print(f"  {engine:10s} {size * 8 / seconds / 1e9:6.2f} Gbit/s")
        print(f"\nattach_container, median of {args.attach_repeat}")
        for label, seconds in bench_attach(args.attach_repeat).items():
            print(f"  {label:22s} {seconds * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
