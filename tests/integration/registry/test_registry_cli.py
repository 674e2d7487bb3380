"""``dockyard pull/push/login/logout`` as a user types them (plain output: not a terminal)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from dockyard.cli.main import cli
from dockyard.oci import reference
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.root


def test_push_and_pull_commands(basic_registry, builders, docker_config, tmp_path_factory):
    src_root = tmp_path_factory.mktemp("dockyard-test-root")
    src = Engine(Settings(root=src_root, exec_root=src_root / "run"))
    image = builders.image(src.content, [{"a": b"a"}, {"b": b"b"}])
    name = f"{basic_registry.host}/cli/app"
    src.images.register(image.manifest_digest, ref=reference.parse(name).with_default_tag())
    runner = CliRunner()

    login = runner.invoke(
        cli,
        ["--root", str(src_root), "login", "-u", "alice", "--password-stdin", basic_registry.host],
        input="wonderland\n",
    )
    assert login.exit_code == 0, login.output
    assert "Login Succeeded" in login.output

    push = runner.invoke(cli, ["--root", str(src_root), "push", name])
    assert push.exit_code == 0, push.output
    lines = push.output.splitlines()
    assert lines[0] == f"The push refers to repository [{name}]"
    assert lines.count(f"{image.layers[0].split(':')[1][:12]}: Pushed") == 1
    assert lines[-1] == f"latest: digest: {image.manifest_digest} size: {len(image.manifest)}"

    dst_root = tmp_path_factory.mktemp("dockyard-test-root")
    pull = runner.invoke(cli, ["--root", str(dst_root), "pull", name])
    assert pull.exit_code == 0, pull.output
    lines = pull.output.splitlines()
    assert lines[:2] == ["Using default tag: latest", "latest: Pulling from cli/app"]
    assert f"Digest: {image.manifest_digest}" in lines
    assert lines[-2:] == [f"Status: Downloaded newer image for {name}:latest", f"{name}:latest"]

    quiet = runner.invoke(cli, ["--root", str(dst_root), "pull", "-q", name])
    assert quiet.output == f"{name}:latest\n"

    logout = runner.invoke(cli, ["--root", str(src_root), "logout", basic_registry.host])
    assert logout.output == f"Removing login credentials for {basic_registry.host}\n"


def test_wrong_password_is_a_clear_error(basic_registry, docker_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("dockyard-test-root")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockyard",
            "--root",
            str(root),
            "login",
            "-u",
            "alice",
            "--password-stdin",
            basic_registry.host,
        ],
        input="nope\n",
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert proc.returncode == 125
    assert proc.stderr.strip().endswith("unauthorized: incorrect username or password")
    assert proc.stderr.startswith("Error: ")
    assert "Login Succeeded" not in proc.stdout
    assert not (docker_config / "config.json").exists()
