"""``.dockerignore`` reading and matching as a user writes it, beyond Docker's test tables."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.build.dockerignore import (
    MatchInfo,
    PatternMatcher,
    matches_or_parent_matches,
    read_ignore_file,
)
from dockyard.build.ignore_glob import BadPattern, clean, filepath_match, parent

DOCKERIGNORE = "\n".join(
    [
        "# build outputs",
        "node_modules",
        "/dist/",
        "**/*.log",
        "   *.tmp   ",  # surrounding blanks are trimmed
        "!keep.tmp",
        "docs",
        "!docs/README.md",
        ".git",
        "./build/../cache//",
        "#!not-an-exception",
        "\r",
        "",
    ]
)


def test_reading_cleans_and_keeps_order() -> None:
    assert read_ignore_file(DOCKERIGNORE) == [
        "node_modules",
        "dist",
        "**/*.log",
        "*.tmp",
        "!keep.tmp",
        "docs",
        "!docs/README.md",
        ".git",
        "cache",
    ]
    assert read_ignore_file("\ufeff# bom\r\nfoo\r\n") == ["foo"]
    assert read_ignore_file("") == []


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("node_modules", True),
        ("node_modules/lodash/index.js", True),  # inside an excluded directory
        ("src/node_modules", False),  # patterns are anchored at the context root
        ("dist/app.js", True),
        ("server.log", True),
        ("logs/deep/server.log", True),
        ("a.tmp", True),
        ("keep.tmp", False),
        ("sub/a.tmp", False),  # * does not cross /
        ("docs/guide.md", True),
        ("docs/README.md", False),
        (".git/HEAD", True),
        ("cache/x", True),
        ("src/main.py", False),
        ("Dockerfile", False),
    ],
)
def test_matching_a_typical_context(path: str, excluded: bool) -> None:
    patterns = read_ignore_file(DOCKERIGNORE)
    assert matches_or_parent_matches(path, patterns) is excluded


def test_tree_walk_with_parent_results_agrees_with_full_matching() -> None:
    matcher = PatternMatcher(["**", "!src", "src/**/*.pyc"])
    tree = ["README", "src", "src/app.py", "src/pkg", "src/pkg/mod.pyc", "src/pkg/mod.py"]
    infos: dict[str, MatchInfo] = {".": MatchInfo()}
    walked = {}
    for path in tree:
        excluded, infos[path] = matcher.matches_using_parent_results(path, infos[parent(path)])
        walked[path] = excluded
    assert walked == {p: matcher.matches_or_parent_matches(p) for p in tree}
    assert walked == {
        "README": True,
        "src": False,
        "src/app.py": False,
        "src/pkg": False,
        "src/pkg/mod.pyc": True,
        "src/pkg/mod.py": False,
    }
    with pytest.raises(errors.InvalidArgument, match="wrong number of values"):
        matcher.matches_using_parent_results("x", MatchInfo([True]))


def test_exact_matching_ignores_parents() -> None:
    matcher = PatternMatcher(["docs"])
    assert matcher.matches_exact("docs")
    assert not matcher.matches_exact("docs/a.md")
    assert matcher.matches_or_parent_matches("docs/a.md")


def test_bad_patterns_are_refused_when_the_matcher_is_built() -> None:
    with pytest.raises(BadPattern, match="syntax error in pattern"):
        PatternMatcher(["ok", "[z"])
    with pytest.raises(errors.InvalidArgument, match='illegal exclusion pattern: "!"'):
        PatternMatcher(["!"])
    matcher = PatternMatcher(["!x", "  ", "a"])
    assert matcher.exclusions and [p.cleaned for p in matcher.patterns] == ["x", "a"]


def test_go_filepath_match_semantics() -> None:
    assert filepath_match("*.go", "main.go")
    assert not filepath_match("*", "a/b")  # a star never crosses a separator
    assert filepath_match("a/[^x]/c", "a/b/c")
    assert filepath_match("[^a]", "/")  # a negated class does match the separator
    assert filepath_match("\\*", "*") and not filepath_match("\\*", "x")
    assert not filepath_match("*[^a]*b", "x/yb")  # Go commits each star to its first fit
    for bad in ("[", "[]a]", "[a-]", "x\\", "[a-b-c]"):
        with pytest.raises(BadPattern):
            filepath_match(bad, "anything")


def test_clean_is_lexical_like_go() -> None:
    assert [clean(p) for p in ("", "a//b/./c/..", "/../x", "../../a", "./", "a/")] == [
        ".",
        "a/b",
        "/x",
        "../../a",
        ".",
        "a",
    ]
    assert parent("a/b/c") == "a/b" and parent("a") == "." and parent("a/b/") == "a/b"
