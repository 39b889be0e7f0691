"""Which recexp a run ran: the git commit of its checkout, for env.json."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]  # the directory above the recexp package


def git_commit(root: Path = CHECKOUT) -> str | None:
    """The commit checked out at ``root``, with ``+dirty`` when tracked files differ
    from it; None when recexp is not a git checkout (an installed wheel) or git is
    missing."""
    if not (root / ".git").exists():  # a directory, or a file in a worktree
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if head and dirty else head or None
