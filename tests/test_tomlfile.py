"""The ground floor: where keys sit in TOML text, and diagnostics that point there."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzzing import ISSUE_TOML

from ergobreak.tomlfile import Diagnostic, Hints, Positions, parse_toml, read_text
from ergobreak.tomlfile.positions import split_lines

# ------------------------------------------------------------ positions


def test_positions_of_keys_and_elements() -> None:
    pos = Positions(
        '# [not = "a header"]\n'
        'a.b = [1, [2, 3], { c = "}" }]\n'
        "[t . 'u v']\n"
        "x = '''\n[[no]]\n'''\n"
        "[[arr]]\n"
        "y = 1\n"
        "[[arr]]\n"
        "y = 2\n"
        "[arr.sub]\n"
        "z = 3\n"
    )
    assert pos.find(("a", "b")) == (2, 7)
    assert pos.find(("a", "b"), at_key=True) == (2, 1)
    assert pos.find(("a", "b", 1, 1)) == (2, 15)
    assert pos.find(("a", "b", 2, "c")) == (2, 25)
    assert pos.find(("t", "u v", "x")) == (4, 5)
    assert pos.find(("arr", 0, "y")) == (8, 5)
    assert pos.find(("arr", 1, "y")) == (10, 5)
    assert pos.find(("arr", 1, "sub", "z")) == (12, 5)
    assert pos.find(("arr", 1, "missing")) == (9, 1)
    assert pos.find(("nowhere",)) is None


def test_positions_keep_what_they_found_on_odd_text() -> None:
    pos = Positions("a = 1\nb = [1,\nc = 2\n")
    assert pos.find(("a",)) == (1, 5)
    assert pos.find(("b",)) == (2, 5)
    assert pos.find(("c",)) is None
    # an unclosed one-line string ends with its line, as TOML reads it
    assert Positions('a = "open\nc = 2\n').find(("c",)) == (2, 5)


def test_dotted_keys_find_what_config_keys_name() -> None:
    pos = Positions(
        "[drill]\nevery = \"30m\"\nlimits.posture.every = { min = 1 }\n'q.k' = 2\n[x.y]\nz = 1\n"
    )
    assert pos.find("drill.every") == (2, 9)
    assert pos.find("drill.every", at_key=True) == (2, 1)
    assert pos.find("drill") == (1, 1)  # a table: its header
    assert pos.find("drill.limits.posture.every.min") == (3, 32)
    assert pos.find("drill.q.k", at_key=True) == (4, 1)  # one quoted part with a dot
    assert pos.find("x") == (5, 1)  # only implied by [x.y]: its first use
    assert pos.find("drill.nope") == (1, 1)  # the nearest written ancestor
    assert pos.find("nope") is None


def test_an_array_of_tables_is_found_at_its_first_header() -> None:
    pos = Positions("a = 1\n\n[[drill]]\nx = 1\n[[drill]]\nx = 2\n")
    assert pos.find("drill", at_key=True) == (3, 1)
    assert pos.find(("drill", 1, "x")) == (6, 5)


def test_lines_are_counted_as_toml_counts_them() -> None:
    text = "a = 1\r\n# a\u2028comment\nb = 2\n"
    assert split_lines(text) == ["a = 1", "# a\u2028comment", "b = 2"]
    pos = Positions(text)
    assert pos.find("b") == (3, 5)
    assert pos.source(3) == "b = 2"
    assert pos.source(4) is None
    assert split_lines("") == []


# ------------------------------------------------------------ diagnostics


def test_a_diagnostic_at_a_dotted_key_names_it_and_quotes_its_line() -> None:
    pos = Positions('[drill]\nevery = "5"\n')
    diag = Diagnostic.at("config.toml", pos, "drill.every", "must be a duration", hint="add a unit")
    assert diag.format() == (
        "config.toml:2:9: error: drill.every: must be a duration\n"
        '   2 | every = "5"\n'
        "               ^\n"
        "     = add a unit"
    )
    assert Diagnostic.at("config.toml", pos, "drill.every", "x", at_key=True).col == 1


def test_a_diagnostic_at_a_path_takes_its_key_from_the_caller() -> None:
    pos = Positions('[[drill]]\nid = "Bad"\n')
    diag = Diagnostic.at("d.toml", pos, ("drill", 0, "id"), "bad id", key="drill[1].id")
    assert diag.headline() == "d.toml:2:6: error: drill[1].id: bad id"
    assert Diagnostic.at("d.toml", pos, (), "empty", severity="warning").headline() == (
        "d.toml: warning: empty"
    )


def test_a_diagnostic_without_positions_has_no_line() -> None:
    diag = Diagnostic.at("config", None, "routines", "no drill is eligible")
    assert (diag.line, diag.col, diag.source, diag.key) == (None, None, None, "routines")
    assert Diagnostic.at("policy.toml", Positions("a = 1\n"), None, "refused").key is None


# ------------------------------------------------------------------- read


def test_parse_toml_reports_a_syntax_error_where_it_is() -> None:
    data, (diag,) = parse_toml("[drill]\nevery = 30m\n", "config.toml", max_bytes=1000)
    assert data is None
    assert diag.location() == "config.toml:2:11"
    assert diag.source == "every = 30m"
    assert diag.hint == 'text values need quotes (every = "30m"); true and false are lowercase'


def test_read_text_says_why_a_file_cannot_be_read(tmp_path: Path) -> None:
    assert read_text(tmp_path / "absent.toml", max_bytes=1000)[1][0].message == "file not found"
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'a = 1\nb = "\xff"\n')
    text, (diag,) = read_text(bad, max_bytes=1000)
    assert text is None
    assert diag.location() == f"{bad}:2:6"
    assert diag.message == "invalid TOML: the file is not UTF-8 text (byte 0xff)"


# ------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("case", "where", "message"),
    [
        ("500 nested arrays", "config.toml:2:39", "nested more than 32 levels deep"),
        ("400 nested inline tables", "config.toml:2:100", "nested more than 32 levels deep"),
        ("a dotted key 1,000 levels deep", "config.toml:2:1", "nested more than 32 levels deep"),
        (
            "an integer of 4,301 digits",
            "config.toml:2:15",
            "a value 4,301 characters long; numbers and dates may have at most 100",
        ),
    ],
)
def test_what_would_break_the_parser_is_an_error_at_its_line(
    case: str, where: str, message: str
) -> None:
    data, (diag,) = parse_toml(ISSUE_TOML[case].decode(), "config.toml", max_bytes=1 << 16)
    assert data is None
    assert (diag.location(), diag.severity, diag.message) == (where, "error", message)
    assert diag.source is not None
    assert diag.hint


def test_the_limits_are_exact_and_strings_and_comments_do_not_count() -> None:
    def depth(n: int) -> str:  # [a] then x = [[...]]: x's innermost element at depth n
        return "[a]\nx = " + "[" * (n - 2) + "1" + "]" * (n - 2) + "\n"

    assert parse_toml(depth(32), "f", max_bytes=1000)[0] is not None
    assert parse_toml(depth(33), "f", max_bytes=1000)[1][0].message.startswith("nested")
    assert parse_toml("[[a.b]]\n" + "c." * 28 + "d = 1\n", "f", max_bytes=1000)[0]
    assert parse_toml("[[a.b]]\n" + "c." * 29 + "d = 1\n", "f", max_bytes=1000)[0] is None
    assert parse_toml("x = " + "1" * 100 + "\n", "f", max_bytes=1000)[0] is not None
    assert parse_toml("x = " + "1" * 101 + "\n", "f", max_bytes=1000)[0] is None
    brackets = "[" * 40
    text = f'a = "{brackets}"\nb = \'{brackets}\'\nc = """\n{brackets}\n"""\n# {brackets}\n'
    assert parse_toml(text, "f", max_bytes=1000)[0] == {
        "a": brackets,
        "b": brackets,
        "c": brackets + "\n",
    }
    assert parse_toml(f"x = '{'9' * 400}'\n", "f", max_bytes=1000)[0] is not None


def test_text_over_the_size_limit_is_not_parsed() -> None:
    data, (diag,) = parse_toml("a = 1\n" * 200, "/home/u/config.toml", max_bytes=1024)
    assert data is None
    assert diag.headline() == (
        "/home/u/config.toml: error: config.toml is 1.2 KB; the limit is 1 KB"
    )
    # characters are not bytes: the limit counts UTF-8 bytes
    assert parse_toml('a = "' + "é" * 600 + '"\n', "f", max_bytes=1000)[0] is None


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "config.toml"
    with huge.open("wb") as f:
        f.truncate(48 << 20)  # sparse: 48 MB that take no disk space or time to read
    text, (diag,) = read_text(huge, max_bytes=1 << 20)
    assert text is None
    assert diag.message == "config.toml is 48 MB; the limit is 1 MB"
    assert diag.hint == "is this the right file? ergobreak reads it whole, so it must stay small"


def test_a_file_without_a_size_is_read_no_further_than_the_limit() -> None:
    status = Path("/proc/self/status")  # a regular file whose size says 0
    assert status.stat().st_size == 0
    text, (diag,) = read_text(status, max_bytes=64)
    assert text is None
    assert diag.message == "status is over 64 bytes; the limit is 64 bytes"


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (os.mkfifo, "a FIFO (named pipe)"),
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
    ],
    ids=["fifo", "directory", "device"],
)
def test_what_is_not_a_regular_file_is_refused_by_its_kind(
    tmp_path: Path, make: Callable[[Path], None], what: str
) -> None:
    path = tmp_path / "config.toml"
    make(path)
    # a FIFO with no writer would block an open for reading: refused before that
    text, (diag,) = read_text(path, max_bytes=1024)
    assert text is None
    assert (diag.path, diag.line, diag.severity) == (str(path), None, "error")
    assert diag.message == f"not a regular file: it is {what}; nothing was read"


def test_hints_are_given_for_the_first_misspellings_only() -> None:
    hints = Hints(budget=2)
    assert [hints.near("evrey", ["every"]) for _ in range(3)] == ["every", "every", None]


def test_positions_stop_at_a_path_deeper_than_the_bounds() -> None:
    pos = Positions("x = 1\n" + ".".join(["a"] * 20000) + " = 1\n")  # no time: no prefixes kept
    assert pos.find(("x",)) == (1, 5)
    assert list(pos.keys) == [("x",)]


def test_a_long_line_is_shown_around_the_caret() -> None:
    source = "".join(chr(ord("a") + i % 26) for i in range(1000))
    diag = Diagnostic(
        path="f", line=1, col=500, severity="error", key=None, message="m", source=source
    )
    _, shown, caret = diag.format().split("\n")
    assert shown == "   1 | …" + source[449:549] + "…"
    assert shown[caret.index("^")] == source[499]


# ------------------------------------------------------- problems named plainly


def _error(text: str) -> Diagnostic:
    data, (diag,) = parse_toml(text, "config.toml", max_bytes=1 << 16)
    assert data is None
    return diag


#: (text, (line, col, key, message, hint)) for a key or table written twice
DUPLICATES = {
    "key": (
        '[posture]\nevery = "20m"\n\n  every = "25m"\n',
        (
            4,
            3,
            "posture.every",
            "invalid TOML: set twice, on line 2 and on line 4",
            "keep one of them",
        ),
    ),
    "top-level-key": (
        "schema = 1\nschema = 1\n",
        (2, 1, "schema", "invalid TOML: set twice, on line 1 and on line 2", "keep one of them"),
    ),
    "table": (
        '[drill]\nevery = "30m"\n[posture]\n[drill]\n',
        (
            4,
            1,
            None,
            "invalid TOML: [drill] is declared twice, on line 1 and on line 4",
            "merge the two [drill] tables into one",
        ),
    ),
    "table-implied-by-a-dotted-key": (
        "[a]\nb.c = 1\n[a.b]\n",
        (
            3,
            1,
            None,
            "invalid TOML: [a.b] is declared twice, on line 2 and on line 3",
            "merge the two [a.b] tables into one",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(DUPLICATES))
def test_a_duplicate_names_both_lines(name: str) -> None:
    text, want = DUPLICATES[name]
    diag = _error(text)
    assert (diag.line, diag.col, diag.key, diag.message, diag.hint) == want


def test_a_byte_order_mark_is_named_and_the_excerpt_leaves_it_out() -> None:
    diag = _error('\ufeff[drill]\nevery = "30m"\n')
    assert (diag.line, diag.col, diag.source) == (1, 1, "[drill]")
    assert diag.message == "invalid TOML: the file starts with a byte order mark (BOM, U+FEFF)"


def test_a_bom_in_a_string_later_on_is_just_text() -> None:
    data, diags = parse_toml('x = "a\ufeffb"\n', "config.toml", max_bytes=1 << 16)
    assert (data, diags) == ({"x": "a\ufeffb"}, [])


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [('[drill]\nevery = "30m"\x00\n', 2, 14), ('a = "x\x00y"\n', 1, 7), ("\x00", 1, 1)],
)
def test_a_nul_byte_is_named_where_it_is(text: str, line: int, col: int) -> None:
    diag = _error(text)
    assert (diag.line, diag.col) == (line, col)
    assert diag.message == "invalid TOML: the file holds a NUL byte (\\x00), which text never has"
    assert diag.source is not None
    assert "\x00" not in diag.source  # shown as a visible one-column symbol
    assert diag.source[col - 1] == "\u2400"


@pytest.mark.parametrize(
    ("text", "col", "quote"),
    [
        ("every = \u201c30m\u201d\n", 9, "\u201c"),
        ("every = '30m\u2019\n", 13, "\u2019"),
        ("every = \u201e30m\u201c\n", 9, "\u201e"),
    ],
    ids=["double", "closing-single", "low-double"],
)
def test_a_smart_quote_is_named(text: str, col: int, quote: str) -> None:
    diag = _error(text)
    assert (diag.line, diag.col) == (1, col)
    assert diag.message == (
        f"invalid TOML: {quote} is a typographic (smart) quote; TOML needs straight quotes, \" or '"
    )


def test_smart_quotes_in_comments_and_strings_are_not_blamed() -> None:
    diag = _error('# say \u201chi\u201d\nname = "say \u201chi\u201d"\nevery = 30m\n')
    assert diag.line == 3
    assert "typographic" not in diag.message


def test_a_brief_leads_with_the_problem_and_shortens_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / ".config" / "ergobreak" / "config.toml"
    text = "# a comment\n" * 37 + '[drill]\nevrey = "30m"\n'
    diag = Diagnostic.at(
        str(path),
        Positions(text),
        "drill.evrey",
        "unknown key (ignored)",
        severity="warning",
        hint="did you mean drill.every?",
        at_key=True,
    )
    assert diag.brief() == (
        "drill.evrey: unknown key (ignored); did you mean drill.every?"
        " (~/.config/ergobreak/config.toml:39)"
    )
    assert diag.headline() == (
        "~/.config/ergobreak/config.toml:39:1: warning: drill.evrey: unknown key (ignored)"
    )
    assert diag.to_json()["path"] == str(path)  # machines get the whole path
