"""BuildKit's own Dockerfile parser and shell-lexer test data, run against our front end.

The data lives in ``../shared/conformance/dockerfile-parser`` (see its README); every case is
run, only Windows-only (``W``) shell rows are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.build.heredoc import heredocs_from_line
from dockyard.build.parse_dump import dump
from dockyard.build.parser import parse_nodes
from dockyard.build.shell import ShellLex

DATA = Path(__file__).parents[3].parent / "shared" / "conformance" / "dockerfile-parser"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"no conformance data at {DATA}")

SHELL_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _dirs(name: str) -> list[Path]:
    folder = DATA / name
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation: CRs matter


@pytest.mark.parametrize("case", _dirs("testfiles"), ids=lambda p: p.name)
def test_parse_matches_buildkit_dump(case: Path) -> None:
    result = parse_nodes(_text(case / "Dockerfile"))
    assert dump(result.nodes) == _text(case / "result")


@pytest.mark.parametrize("case", _dirs("testfiles-negative"), ids=lambda p: p.name)
def test_invalid_dockerfiles_are_refused(case: Path) -> None:
    with pytest.raises(errors.InvalidArgument, match=r"^Dockerfile"):
        parse_nodes(_text(case / "Dockerfile"))


def test_line_numbers_cover_continuations_and_blank_lines() -> None:
    result = parse_nodes(_text(DATA / "testfile-line" / "Dockerfile"))
    assert [(n.start_line, n.end_line) for n in result.nodes] == [(5, 5), (11, 12), (17, 31)]
    assert result.directive("escape") == "\\"
    # The RUN has empty continuation lines: accepted, with a warning pointing at it.
    assert [w.line for w in result.warnings] == [31]


def _heredoc_cases() -> list[tuple[int, object]]:
    path = DATA / "heredoc" / "extracts_heredoc.json"
    if not path.is_file():
        return []
    return list(enumerate(json.loads(path.read_text(encoding="utf-8"))["expected"]))


@pytest.mark.parametrize(("index", "expected"), _heredoc_cases())
def test_heredocs_extracted_per_instruction(index: int, expected: object) -> None:
    doc = json.loads((DATA / "heredoc" / "extracts_heredoc.json").read_text(encoding="utf-8"))
    node = parse_nodes(doc["dockerfile"]).nodes[index + 1]
    got = [
        {
            "Name": h.name,
            "FileDescriptor": h.file_descriptor,
            "Expand": h.expand,
            "Chomp": h.chomp,
            "Content": h.content,
        }
        for h in node.heredocs
    ]
    assert (got or None) == expected, node.original


def _line_cases() -> list[dict[str, object]]:
    path = DATA / "heredoc" / "heredocs_from_line.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


@pytest.mark.parametrize("case", _line_cases(), ids=lambda c: str(c["line"]))
def test_heredoc_names_found_on_a_line(case: dict[str, object]) -> None:
    names = [h.name for h in heredocs_from_line(str(case["line"]))]
    assert (names or None) == case["heredocNames"]


def _env_var_rows() -> list[object]:
    path = DATA / "shell" / "envVarTest"
    rows: list[object] = []
    if not path.is_file():
        return rows
    for number, line in enumerate(_text(path).split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        platform, source, expected = (part.strip() for part in line.split("|"))
        marks = [pytest.mark.skip(reason="Windows-only row")] if platform == "W" else []
        rows.append(pytest.param(source, expected, id=f"L{number}", marks=marks))
    return rows


@pytest.mark.parametrize(("source", "expected"), _env_var_rows())
def test_variable_expansion(source: str, expected: str) -> None:
    lex = ShellLex("\\")
    if expected == "error":
        with pytest.raises(errors.InvalidArgument):
            lex.process_word(source, SHELL_ENV)
    else:
        assert lex.process_word(source, SHELL_ENV) == expected


def _words_rows() -> list[object]:
    path = DATA / "shell" / "wordsTest"
    rows: list[object] = []
    if not path.is_file():
        return rows
    env: dict[str, str] = {}
    for number, line in enumerate(_text(path).split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[3:].lstrip(" ").partition("=")
            env[key] = value
            continue
        source, expected = line.split("|")
        words = expected.lstrip(" ").split(",")
        rows.append(pytest.param(source.strip(), dict(env), words, id=f"L{number}"))
    return rows


@pytest.mark.parametrize(("source", "env", "expected"), _words_rows())
def test_word_splitting(source: str, env: dict[str, str], expected: list[str]) -> None:
    try:
        words = ShellLex("\\").process_words(source, env)
    except errors.InvalidArgument:
        words = ["error"]
    assert words == expected
