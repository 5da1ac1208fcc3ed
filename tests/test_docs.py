"""Docs that are generated from code stay current."""

from __future__ import annotations

from pathlib import Path

from ergobreak.core.diagram import mermaid
from ergobreak.tomlfile.read import tomllib

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


def _doc_floors() -> dict[str, int]:
    """``docs/architecture.md``'s map: package (as the layering names it) -> floor."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("| floor | package", 1)[1].split("\n\n", 1)[0]
    floors: dict[str, int] = {}
    for row in table.splitlines()[2:]:
        floor, package = (cell.strip() for cell in row.strip("|").split("|")[:2])
        name = package.strip("`").removesuffix("/").removesuffix(".py")
        floors[name] = int(floor)
    return floors


def test_the_architecture_map_is_the_layering_the_build_checks() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = (
        c["layers"] for c in contracts["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    )
    checked = {
        name.strip(): len(layers) - i for i, layer in enumerate(layers) for name in layer.split("|")
    }
    assert _doc_floors() == checked
    # Every package and top-level module of ergobreak is on the map.
    package = ROOT / "ergobreak"
    children = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    children |= {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert children == set(checked)
