"""The first-run notice: where break history lives and that it stays on this machine."""

from __future__ import annotations

from pathlib import Path

from ergobreak.history.store import KEEP_DAYS


def first_run_notice(path: Path, keep_days: int | None = KEEP_DAYS) -> str:
    """Shown once by the CLI and once by the daemon (see ``HistoryStore.claim_notice``)."""
    kept = (
        f"Days older than {keep_days} days are deleted automatically."
        if keep_days
        else "Nothing is deleted automatically."
    )
    return (
        "ergobreak keeps a history of your breaks (prompts, drills done or skipped, desk"
        f" time) in {path}\n"
        "It never leaves this machine: ergobreak has no network code and sends it nowhere.\n"
        "See it with `ergobreak stats` or `ergobreak report`, export it with"
        " `ergobreak stats export`, delete it with `ergobreak stats clear`.\n"
        f"{kept}\n"
    )
