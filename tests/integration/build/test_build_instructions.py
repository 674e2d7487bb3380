"""Instructions as Docker runs them: COPY/ADD semantics, RUN mounts, users, args, contexts."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from build_test_helpers import BASE, Builder, steps


def _history(builder: Builder, name: str) -> list[str]:
    proc = builder.run("history", "--no-trunc", "--format", "{{.CreatedBy}}", name)
    return proc.stdout.decode().splitlines()


def _outputs(out: str) -> list[str]:
    """The lines commands printed (``#N 0.123 text`` → ``text``)."""
    lines = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].startswith("#") and parts[1].replace(".", "").isdigit():
            lines.append(parts[2])
    return lines


def test_copy_semantics_owner_mode_and_directories(builder: Builder, context: Path) -> None:
    (context / "d" / "sub").mkdir(parents=True)
    (context / "d" / "sub" / "f").write_text("f")
    (context / "one.txt").write_text("1")
    (context / "two.txt").write_text("2")
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        "WORKDIR /w\n"
        "COPY d /contents/\n"
        "COPY one.txt rel\n"
        "COPY *.txt /many/\n"
        "COPY --chown=7:8 --chmod=640 one.txt /owned\n"
        "COPY <<EOF /here.txt\n"
        "hello heredoc\n"
        "EOF\n"
        "RUN ls -ln /owned && ls /contents/sub/f /w/rel /many/one.txt /many/two.txt "
        "&& cat /here.txt && pwd\n"
    )
    _, out = builder.build(context)
    lines = _outputs(out)
    assert lines[0].startswith("-rw-r-----") and " 7 " in lines[0] and " 8 " in lines[0]
    assert {"/contents/sub/f", "/w/rel", "/many/one.txt", "/many/two.txt"} <= set(lines)
    assert "hello heredoc" in lines and lines[-1] == "/w"


def test_add_extracts_local_tars(builder: Builder, context: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pkg/inside.txt")
        data = b"from the tarball\n"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (context / "bundle.tar.gz").write_bytes(buf.getvalue())
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\nADD bundle.tar.gz /opt/\nRUN cat /opt/pkg/inside.txt\n"
    )
    _, out = builder.build(context)
    assert "from the tarball" in _outputs(out)


def test_run_user_heredoc_args_and_history(builder: Builder, context: Path) -> None:
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        "ARG GREETING=hi\n"
        "RUN <<EOF\n"
        'echo "script says $GREETING"\n'
        "EOF\n"
        "RUN <<EOF\n"
        "#!/bin/sh -e\n"
        'echo "run by its own interpreter: $0"\n'
        "EOF\n"
        "USER 1234:99\n"
        "RUN id -u && id -g\n"
    )
    _, out = builder.build(context, "--build-arg", "GREETING=hello", "-t", "args:1")
    lines = _outputs(out)
    assert "script says hello" in lines
    assert "run by its own interpreter: /dev/stdin" in lines
    assert lines[-2:] == ["1234", "99"]
    history = _history(builder, "args:1")
    assert "ARG GREETING=hi" in history
    assert "RUN |1 GREETING=hello /bin/sh -c id -u && id -g # buildkit" in history
    assert "USER 1234:99" in history


def test_secret_mount_is_readable_but_never_stored(
    builder: Builder, context: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-value")
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\nRUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c\n"
    )
    _, out = builder.build(context, "--secret", f"id=tok,src={secret}", "-t", "sec:1")
    assert "12" in _outputs(out)
    builder.run("save", "sec:1", "-o", str(tmp_path / "sec.tar"))
    with tarfile.open(tmp_path / "sec.tar") as archive:
        for member in archive.getmembers():
            if member.isfile():
                data = archive.extractfile(member).read()  # type: ignore[union-attr]
                if data[:2] == b"\x1f\x8b":
                    import gzip

                    data = gzip.decompress(data)
                assert b"s3cr3t-value" not in data, member.name
                if data[257:262] == b"ustar":  # a layer: the mount point was not left behind
                    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                        assert not [n for n in layer.getnames() if "secrets" in n]
    assert not any("s3cr3t" in line for line in _history(builder, "sec:1"))
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\nRUN --mount=type=secret,id=tok,required cat /run/secrets/tok\n"
    )
    code, out = builder.build(context, check=False)
    assert code == 1 and "secret tok not found" in out


def test_cache_mount_persists_and_network_none_isolates(builder: Builder, context: Path) -> None:
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\n"
        "RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log\n"
        "RUN --network=none ls /sys/class/net\n"
    )
    _, first = builder.build(context)
    _, second = builder.build(context, "--no-cache")
    assert _outputs(first)[0] == "1"
    assert _outputs(second) == ["2", "lo"]
    (context / "Dockerfile").write_text(f"FROM {BASE}\nRUN ls /sys/class/net\n")
    _, default_net = builder.build(context)
    _, no_net = builder.build(context, "--network=none")  # the build-wide default for RUN
    assert _outputs(no_net) == ["lo"] and steps(no_net)["RUN ls /sys/class/net"] == "DONE"
    assert len(_outputs(default_net)) > 1  # the host's network: more than loopback


def test_dockerfile_on_stdin_and_tar_context_on_stdin(builder: Builder) -> None:
    _, out = builder.build("-", input=f"FROM {BASE}\nRUN echo from-stdin\n".encode())
    assert "from-stdin" in _outputs(out)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", f"FROM {BASE}\nCOPY f /f\nRUN cat /f\n".encode()),
                           ("f", b"from-tar-context\n")):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _, out = builder.build("-", input=buf.getvalue())
    assert "from-tar-context" in _outputs(out)


def test_independent_stages_labels_iidfile_and_onbuild(
    builder: Builder, context: Path, tmp_path: Path
) -> None:
    (context / "Dockerfile").write_text(
        f"FROM {BASE} AS a\nRUN echo a > /a\n"
        f"FROM {BASE} AS b\nRUN echo b > /b\n"
        f"FROM {BASE} AS skipped\nRUN echo never-runs\n"
        f"FROM {BASE}\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nCOPY --from=0 /a /a0\n"
        f"COPY --from={BASE} /etc/passwd /passwd-from-image\n"
        "ONBUILD RUN echo onbuild-trigger-ran\n"
    )
    iid = tmp_path / "iid"
    _, out = builder.build(
        context, "-t", "parent:1", "--label", "team=build", "--iidfile", str(iid)
    )
    assert "never-runs" not in out
    status = steps(out)
    assert status["RUN echo a > /a"] == "DONE" and status["RUN echo b > /b"] == "DONE"
    inspect = json.loads(builder.run("inspect", "parent:1").stdout)[0]
    assert iid.read_text() == inspect["Id"]
    assert inspect["Config"]["Labels"] == {"team": "build"}
    (context / "Dockerfile").write_text(
        "FROM parent:1\nRUN cat /a /b /a0 && head -c4 /passwd-from-image\n"
    )
    _, out = builder.build(context)
    lines = _outputs(out)
    assert "onbuild-trigger-ran" in lines and lines[-4:] == ["a", "b", "a", "root"]


def test_missing_source_and_bad_dockerfile_are_errors(builder: Builder, context: Path) -> None:
    (context / "Dockerfile").write_text(f"FROM {BASE}\nCOPY nope /x\n")
    proc = builder.run("build", str(context), check=False)
    assert proc.returncode != 0 and b'"/nope": not found' in proc.stderr
    (context / "Dockerfile").write_text(f"FROM {BASE}\nRUNN x\n")
    proc = builder.run("build", str(context), check=False)
    assert proc.returncode != 0 and b"Dockerfile:2: unknown instruction: RUNN" in proc.stderr


def test_add_url_with_checksum(builder: Builder, context: Path, tmp_path: Path) -> None:
    import functools
    import hashlib
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    (served / "tool.txt").write_bytes(b"downloaded tool\n")
    digest = "sha256:" + hashlib.sha256(b"downloaded tool\n").hexdigest()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tool.txt"
        (context / "Dockerfile").write_text(
            f"FROM {BASE}\nADD --checksum={digest} {url} /opt/\nRUN cat /opt/tool.txt && stat -c %a /opt/tool.txt\n"
        )
        _, out = builder.build(context)
        assert _outputs(out)[-2:] == ["downloaded tool", "600"]
        (context / "Dockerfile").write_text(
            f"FROM {BASE}\nADD --checksum=sha256:{'0' * 64} {url} /opt/\n"
        )
        code, out = builder.build(context, check=False)
        assert code == 1 and "checksum mismatch" in out
    finally:
        server.shutdown()
        server.server_close()
