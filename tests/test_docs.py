"""Docs that are generated from code stay current."""

from __future__ import annotations

from pathlib import Path

from ergobreak.core.diagram import mermaid

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_diagram_matches_the_transition_table() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == mermaid(), "run: python -m ergobreak.core.diagram"


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```", lines.index("```sh"))]
    assert len(block) == 2
    assert "ergobreak" in block[0]
    assert "bash tests/run.sh" in block[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "tests/run.sh" in ci
