"""Variable expansion and word splitting beyond BuildKit's tables: modifiers, patterns, modes."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.build.shell import (
    EXPANDED_INSTRUCTIONS,
    ShellLex,
    expand_word,
    expands_variables,
    split_words,
)

ENV = {"FILE": "archive.tar.gz", "PATH": "/usr/bin:/bin", "EMPTY": "", "NAME": "web"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${UNSET-default}", "default"),
        ("${EMPTY-default}", ""),  # set but empty: no colon, no default
        ("${EMPTY:-default}", "default"),
        ("${UNSET+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${NAME:+alt-$NAME}", "alt-web"),
        ("${FILE#*.}", "tar.gz"),
        ("${FILE##*.}", "gz"),
        ("${FILE%.*}", "archive.tar"),
        ("${FILE%%.*}", "archive"),
        ("${PATH/bin/sbin}", "/usr/sbin:/bin"),
        ("${PATH//bin/sbin}", "/usr/sbin:/sbin"),
        ("${FILE/#arch/ARCH}", "archive.tar.gz"),  # bash's anchors are not supported
        ('"${NAME}-$NAME"', "web-web"),
        ("'${NAME}'", "${NAME}"),
        ("\\$NAME", "$NAME"),
    ],
)
def test_expansion_forms(word: str, expected: str) -> None:
    assert expand_word(word, ENV) == expected


def test_required_variables_fail_with_their_message() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        expand_word("${TOKEN:?set TOKEN to your API key}", ENV)
    assert str(exc.value) == (
        'failed to process "${TOKEN:?set TOKEN to your API key}": TOKEN: set TOKEN to your API key'
    )
    with pytest.raises(errors.InvalidArgument, match="EMPTY: is not allowed to be empty"):
        expand_word("${EMPTY:?}", ENV)
    with pytest.raises(errors.InvalidArgument, match="UNSET: is not allowed to be unset"):
        expand_word("${UNSET?}", ENV)
    assert expand_word("${EMPTY?}", ENV) == ""


def test_syntax_errors_are_invalid_arguments() -> None:
    for bad in ("${NAME", "${}", "${NAME:=x}", "${FILE:#x}", "'open", '"open', "${PATH/bin"):
        with pytest.raises(errors.InvalidArgument, match="failed to process"):
            expand_word(bad, ENV)


def test_backtick_is_the_escape_when_the_dockerfile_says_so() -> None:
    assert expand_word("C:\\path`$NAME", ENV, escape="`") == "C:\\path$NAME"
    assert split_words("a` b c", ENV, escape="`") == ["a b", "c"]


def test_word_splitting_keeps_quoted_spaces_and_splits_expanded_ones() -> None:
    env = {"FLAGS": "-a  -b"}
    assert split_words('$FLAGS "x y" z', env) == ["-a", "-b", "x y", "z"]
    assert split_words('"$FLAGS"', env) == ["-a  -b"]
    assert split_words('""', env) == []


def test_lookup_is_case_sensitive_and_names_are_reported() -> None:
    result = ShellLex().process("$NAME-$name-${MISSING:-x}", ENV)
    assert result.result == "web--x"
    assert result.matched == {"NAME"}
    assert result.unmatched == {"name", "MISSING"}


def test_raw_modes_keep_what_they_are_asked_to() -> None:
    lex = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset=True)
    assert lex.process_word("'a' \"$X\" \\n ${Y:-z}", {}) == "'a' \"$X\" \\n ${Y:-z}"
    body = ShellLex(skip_quotes=True)
    assert body.process_word("echo '$NAME' \"it's\"", ENV) == "echo 'web' \"it's\""


def test_which_instructions_docker_expands() -> None:
    for name in ("ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER",
                 "VOLUME", "WORKDIR", "ARG"):  # fmt: skip
        assert expands_variables(name)
    for name in ("RUN", "CMD", "ENTRYPOINT", "ONBUILD", "SHELL", "HEALTHCHECK", "MAINTAINER"):
        assert not expands_variables(name)
    assert "run" not in EXPANDED_INSTRUCTIONS
