"""The ground floor: where keys sit in TOML text, and diagnostics that point there."""

from __future__ import annotations

from pathlib import Path

from ergobreak.tomlfile import Diagnostic, Positions, parse_toml, read_text
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
