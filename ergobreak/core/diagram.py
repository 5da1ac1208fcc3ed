"""Draw the phase diagram from :data:`~ergobreak.core.phases.TRANSITIONS` (Mermaid).

``python -m ergobreak.core.diagram`` prints it; docs/architecture.md embeds the
output and a test keeps the two identical, so the picture cannot drift from the code.
"""

from __future__ import annotations

from ergobreak.core.phases import TRANSITIONS


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> working"]
    edges: dict[tuple[str, str], list[str]] = {}
    for (phase, trigger), target in TRANSITIONS.items():
        edges.setdefault((phase.value, target.value), []).append(trigger)
    for (source, goal), triggers in edges.items():
        lines.append(f"    {source} --> {goal}: {' / '.join(triggers)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")
