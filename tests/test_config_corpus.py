"""A corpus of bad config files, each with the exact output ``ergobreak config check`` gives.

``tests/config_corpus/user/NAME.toml`` is checked as a user file
(``config check user/NAME.toml``), ``tests/config_corpus/policy/NAME.toml`` as a
draft policy (``config check --policy policy/NAME.toml``), from inside the corpus
folder so paths in messages are relative; ``NAME.strict.toml`` adds ``--strict``.
``NAME.toml.expected`` holds the command, everything it wrote (diagnostics on
stderr, then the verdict on stdout) and the exit code.

The test compares exactly and never writes. After an intended change of a
message, regenerate and review the diff before committing::

    .venv/bin/python tests/test_config_corpus.py --update
    git diff tests/config_corpus/
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scaffold import cli, isolate

from ergobreak.config import policy

CORPUS = Path(__file__).resolve().parent / "config_corpus"
KINDS = ("user", "policy")


def cases() -> list[Path]:
    """Every corpus file (``directory.toml`` is a folder on purpose), by name."""
    return sorted(p for kind in KINDS for p in (CORPUS / kind).glob("*.toml"))


def command(case: Path) -> list[str]:
    rel = case.relative_to(CORPUS).as_posix()
    strict = ["--strict"] if case.name.endswith(".strict.toml") else []
    if case.parent.name == "policy":
        return ["config", "check", *strict, "--policy", rel]
    return ["config", "check", *strict, rel]


def run(case: Path) -> str:
    """What ``ergobreak config check`` prints for ``case``, as stored in ``.expected``."""
    argv = command(case)
    code, out, err = cli(*argv)
    return f"$ ergobreak {' '.join(argv)}\n{err}{out}exit {code}\n"


def expected_path(case: Path) -> Path:
    return case.with_name(case.name + ".expected")


@contextlib.contextmanager
def isolation(tmp: Path, mp: pytest.MonkeyPatch) -> Iterator[None]:
    """No installed policy, no custom drills, no real user file (:func:`scaffold.isolate`);
    drafts are checked as if installed by root (the checkout's owner varies between
    machines)."""
    isolate(tmp, mp)
    mp.setattr(policy, "unsafe_reason", lambda path, root=None: None)
    mp.chdir(CORPUS)
    yield


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolation(tmp_path, monkeypatch):
        yield


def test_the_corpus_covers_both_kinds_and_every_case_has_an_expectation() -> None:
    found = cases()
    assert len([c for c in found if c.parent.name == "user"]) >= 30
    assert len([c for c in found if c.parent.name == "policy"]) >= 15
    missing = [c.name for c in found if not expected_path(c).is_file()]
    assert not missing, f"no .expected file for {missing}: see this module's docstring"
    orphans = [
        p.name
        for kind in KINDS
        for p in (CORPUS / kind).glob("*.expected")
        if not p.with_suffix("").exists()
    ]
    assert not orphans


@pytest.mark.parametrize("case", cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_config_check_output_is_exactly_as_recorded(case: Path) -> None:
    got = run(case)
    want = expected_path(case).read_text(encoding="utf-8")
    assert got == want
    assert "Traceback" not in got


def _update() -> None:  # pragma: no cover - a maintenance tool, see the docstring
    import tempfile

    with (
        tempfile.TemporaryDirectory() as tmp,
        pytest.MonkeyPatch.context() as mp,
        isolation(Path(tmp), mp),
    ):
        for case in cases():
            expected_path(case).write_text(run(case), encoding="utf-8")
            print(f"wrote {expected_path(case).relative_to(CORPUS)}")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} --update")
    _update()
