"""Docker's patternmatcher and ignorefile test tables, run against ``build.dockerignore``.

The data lives in ``../shared/conformance/dockerignore-patterns`` (see its SOURCE.txt).
Every case runs; nothing is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.build.dockerignore import (
    MatchInfo,
    PatternMatcher,
    compile_pattern,
    matches,
    read_ignore_file,
)
from dockyard.build.ignore_glob import BadPattern, clean, parent

DATA = Path(__file__).parents[3].parent / "shared" / "conformance" / "dockerignore-patterns"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"no conformance data at {DATA}")


def _load(name: str) -> list[dict[str, object]]:
    path = DATA / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def _id(case: dict[str, object]) -> str:
    return f"{case.get('patterns', case.get('pattern'))}~{case.get('text')}"


@pytest.mark.parametrize("case", _load("matches.json"), ids=_id)
def test_matches_with_parent_directories(case: dict[str, object]) -> None:
    patterns = list(case["patterns"])  # type: ignore[call-overload]
    text = str(case["text"])
    matcher = PatternMatcher(patterns)
    assert matcher.matches_or_parent_matches(text) is case["pass"]
    assert matcher.matches_using_parent_results(text)[0] is case["pass"]

    # As a tree walk would: each parent directory first, handing its results down.
    info, verdict = MatchInfo(), False
    parent_path = parent(text)
    if parent_path != ".":
        parts = parent_path.split("/")
        for i in range(len(parts)):
            directory = "/".join(parts[: i + 1])
            _, info = matcher.matches_using_parent_results(directory, info)
            verdict = matcher.matches_using_parent_result(directory, verdict)
    assert matcher.matches_using_parent_results(text, info)[0] is case["pass"]
    if len(patterns) == 1:  # the deprecated single-verdict form is wrong with exceptions
        assert matcher.matches_using_parent_result(text, verdict) is case["pass"]


@pytest.mark.parametrize("case", _load("filepath_match.json"), ids=_id)
def test_glob_semantics_and_errors(case: dict[str, object]) -> None:
    if case["error"]:
        with pytest.raises(BadPattern, match=str(case["error"])):
            matches(str(case["text"]), [str(case["pattern"])])
    else:
        assert matches(str(case["text"]), [str(case["pattern"])]) is case["match"]


@pytest.mark.parametrize("case", _load("compile.json"), ids=lambda c: str(c["pattern"]))
def test_pattern_compilation(case: dict[str, object]) -> None:
    pattern = clean(str(case["pattern"]))
    assert compile_pattern(pattern) == (case["matchType"], case["regexp"])
    windows = compile_pattern(pattern.replace("/", "\\"), sep="\\")
    assert windows == (case["matchType"], case["windowsRegexp"])


@pytest.mark.parametrize("case", _load("ignorefile_readall.json"), ids=lambda c: repr(c["content"]))
def test_reading_dockerignore(case: dict[str, object]) -> None:
    content = case["content"]
    assert read_ignore_file(None if content is None else str(content)) == case["expected"]
