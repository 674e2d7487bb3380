"""The raw Dockerfile parser beyond BuildKit's test files: errors, directives, line bookkeeping."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.build.heredoc import chomp_content, parse_heredoc
from dockyard.build.parse_dump import dump, go_quote
from dockyard.build.parser import parse_nodes


def _dump(text: str) -> str:
    return dump(parse_nodes(text).nodes)


def test_backtick_escape_continues_lines_and_keeps_backslashes() -> None:
    text = "# escape=`\nFROM windows\nRUN dir C:\\ `\n    /s\nCOPY a\\b `\n  c:\\dst\n"
    result = parse_nodes(text)
    assert result.escape_token == "`"
    assert _dump(text) == (
        '(from "windows")\n(run "dir C:\\\\     /s")\n(copy "a\\\\b" "c:\\\\dst")\n'
    )


def test_directives_only_count_at_the_very_top() -> None:
    text = "# syntax=docker/dockerfile:1.7\n# check=skip=all\n\n# escape=`\nFROM a\nRUN x \\\n y\n"
    result = parse_nodes(text)
    assert result.directive("syntax") == "docker/dockerfile:1.7"
    assert result.directive("check") == "skip=all"
    assert result.directive("escape") is None  # after a blank line it is a mere comment
    assert result.escape_token == "\\"
    assert [n.args for n in result.nodes] == [("a",), ("x  y",)]


def test_unknown_directive_ends_the_directive_block() -> None:
    result = parse_nodes("# foo=bar\n# escape=`\nFROM a\n")
    assert result.directives == ()
    assert result.escape_token == "\\"


def test_repeated_directive_is_an_error_at_its_line() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_nodes("# escape=`\n# escape=\\\nFROM a\n")
    assert str(exc.value) == "Dockerfile:2: only one escape parser directive can be used"


def test_invalid_escape_token_names_the_line() -> None:
    with pytest.raises(errors.InvalidArgument, match=r"^Dockerfile:1: invalid escape token '\$'"):
        parse_nodes("# escape=$\nFROM a\n")


def test_errors_name_the_file_and_line() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_nodes("FROM a\n\n# a comment\nENV ONLYKEY\n", filename="build/Dockerfile.dev")
    assert str(exc.value) == "build/Dockerfile.dev:4: ENV must have two arguments"


def test_env_without_equals_in_later_pair_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match=r"^Dockerfile:2: Syntax error - can't find ="):
        parse_nodes("FROM a\nENV a=b c\n")


def test_crlf_line_endings_and_byte_order_mark() -> None:
    text = '\ufeffFROM alpine\r\nRUN echo a \\\r\n    b\r\nCMD ["sh"]\r\n'
    result = parse_nodes(text)
    assert _dump(text) == '(from "alpine")\n(run "echo a     b")\n(cmd "sh")\n'
    assert [(n.start_line, n.end_line) for n in result.nodes] == [(1, 1), (2, 3), (4, 4)]


def test_comment_lines_inside_a_continuation_are_dropped() -> None:
    text = "FROM a\nRUN apt-get update && \\\n  # install things\n  apt-get install -y x\n"
    node = parse_nodes(text).nodes[1]
    assert node.args == ("apt-get update &&   apt-get install -y x",)
    assert (node.start_line, node.end_line) == (2, 4)
    assert parse_nodes(text).warnings == ()


def test_empty_continuation_line_warns() -> None:
    result = parse_nodes("FROM a\nRUN a \\\n\n  b\n")
    assert result.nodes[1].args == ("a   b",)
    assert len(result.warnings) == 1
    assert result.warnings[0].line == 4
    assert "Empty continuation line" in result.warnings[0].message


def test_flags_are_split_off_and_double_dash_ends_them() -> None:
    text = (
        'FROM --platform=linux/arm64 a\nRUN --mount=type=cache,target=/c --mount="type=tmpfs,'
        'target=/t" --network=none -- --not-a-flag\nCOPY --chown=1:1 -- --weird /dst\n'
    )
    nodes = parse_nodes(text).nodes
    assert nodes[0].flags == ("--platform=linux/arm64",)
    assert nodes[1].flags == (
        "--mount=type=cache,target=/c",
        "--mount=type=tmpfs,target=/t",
        "--network=none",
    )
    assert nodes[1].args == ("--not-a-flag",)
    assert nodes[2].args == ("--weird", "/dst")


def test_exec_form_ignores_text_after_the_array_and_rejects_non_strings() -> None:
    assert parse_nodes('CMD ["a", "b"] trailing\n').nodes[0].args == ("a", "b")
    assert parse_nodes('CMD ["a", "b"] trailing\n').nodes[0].json
    with pytest.raises(errors.InvalidArgument, match="arrays must be comprised of strings only"):
        parse_nodes('ENTRYPOINT ["a", 1]\n')
    # Not JSON at all: shell form, kept verbatim.
    assert parse_nodes("CMD [NaN]\n").nodes[0].args == ("[NaN]",)


def test_heredocs_read_their_bodies_in_order_with_line_numbers() -> None:
    text = (
        "FROM a\n"
        "COPY <<one <<'two' /dst/\n"
        "first $HOME\n"
        "one\n"
        "second $HOME\n"
        "two\n"
        "RUN <<-EOT bash\n"
        "\techo hi\n"
        "\tEOT\n"
        "CMD x\n"
    )
    nodes = parse_nodes(text).nodes
    copy, run, cmd = nodes[1], nodes[2], nodes[3]
    assert [(h.name, h.expand, h.content) for h in copy.heredocs] == [
        ("one", True, "first $HOME\n"),
        ("two", False, "second $HOME\n"),
    ]
    assert (copy.start_line, copy.end_line) == (2, 6)
    assert run.heredocs[0].chomp
    assert chomp_content(run.heredocs[0].content) == "echo hi\n"
    assert (run.start_line, run.end_line, cmd.start_line) == (7, 9, 10)


def test_heredoc_in_exec_form_or_other_instruction_is_plain_text() -> None:
    nodes = parse_nodes('FROM a\nRUN ["<<EOF"]\nUSER <<EOF\nEOF\n').nodes
    assert nodes[1].heredocs == () and nodes[2].heredocs == ()
    assert nodes[3].keyword == "EOF"  # the would-be terminator is an (unknown) instruction


def test_onbuild_trigger_may_carry_a_heredoc() -> None:
    text = "FROM a\nONBUILD RUN <<EOF\necho child\nEOF\n"
    node = parse_nodes(text).nodes[1]
    assert node.trigger is not None and node.trigger.name == "run"
    assert [h.content for h in node.heredocs] == ["echo child\n"]
    assert _dump(text).splitlines()[1] == '(onbuild (run "<<EOF"))'


def test_unterminated_heredoc_points_at_its_instruction() -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_nodes("FROM a\n\nRUN <<EOF\necho never ends\n")
    assert str(exc.value) == "Dockerfile:3: unterminated heredoc EOF"


def test_quoted_heredoc_delimiter_must_be_balanced() -> None:
    with pytest.raises(errors.InvalidArgument, match="matching single-quote"):
        parse_heredoc("<<'EOF")
    heredoc = parse_heredoc('3<<-"END"')
    assert heredoc is not None
    assert (heredoc.name, heredoc.file_descriptor, heredoc.chomp, heredoc.expand) == (
        "END",
        3,
        True,
        False,
    )


def test_instruction_keyword_case_is_kept_but_name_is_lower() -> None:
    node = parse_nodes("from alpine AS Build\n").nodes[0]
    assert (node.keyword, node.name, node.args) == ("from", "from", ("alpine", "AS", "Build"))


def test_go_quote_matches_strconv_quote() -> None:
    assert go_quote('a"b\\c\n\t\x00\x7f') == '"a\\"b\\\\c\\n\\t\\x00\\x7f"'
    assert go_quote("é☃\u00ad\U0001f600") == '"é☃\\u00ad\U0001f600"'


def test_file_without_instructions_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="file with no instructions"):
        parse_nodes("# only a comment\n\n   \n")
