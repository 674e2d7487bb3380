"""The build context: which files COPY sees, and when their checksum changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.build.context import BuildContext, clean_source


@pytest.fixture
def ctx_dir(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a")
    (tmp_path / "src" / "b.txt").write_text("b")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "junk").write_text("j")
    (tmp_path / "build" / "keep").write_text("k")
    return tmp_path


def test_sources_never_leave_the_context() -> None:
    assert clean_source("../../etc/passwd") == "etc/passwd"
    assert clean_source("./a//b/") == "a/b"
    assert clean_source(".") == ""


def test_wildcards_expand_to_included_paths(ctx_dir: Path) -> None:
    ctx = BuildContext(ctx_dir, ["build", "!build/keep"])
    assert ctx.resolve("src/*.py") == ["src/a.py"]
    assert ctx.resolve("*/k*") == ["build/keep"]
    with pytest.raises(errors.NotFound, match='"/build/junk": not found'):
        ctx.resolve("build/junk")


def test_walk_skips_excluded_files_but_finds_exceptions(ctx_dir: Path) -> None:
    ctx = BuildContext(ctx_dir, ["build", "!build/keep"])
    names = [rel for rel, _ in ctx.walk("")]
    assert "build/keep" in names and "build/junk" not in names and "src/a.py" in names


def test_checksum_changes_with_content_mode_and_ignore_rules(ctx_dir: Path) -> None:
    first = BuildContext(ctx_dir).checksum(["src"])
    assert BuildContext(ctx_dir).checksum(["src"]) == first
    (ctx_dir / "src" / "a.py").write_text("changed")
    second = BuildContext(ctx_dir).checksum(["src"])
    assert second != first
    os.chmod(ctx_dir / "src" / "a.py", 0o600)
    third = BuildContext(ctx_dir).checksum(["src"])
    assert third != second
    assert BuildContext(ctx_dir, ["src/b.txt"]).checksum(["src"]) != third
    # a file outside the copied sources does not matter
    (ctx_dir / "build" / "junk").write_text("other")
    assert BuildContext(ctx_dir).checksum(["src"]) == third
