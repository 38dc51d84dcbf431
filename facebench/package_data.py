"""Files shipped inside the package, so that a wheel install finds them as a source checkout does.

``facebench/data/configs/`` holds the benchmark configs (the embedded default and the paper's
setups) and ``facebench/data/leaderboards/`` the committed boards; the repository's top-level
``configs`` and ``leaderboards`` are links to them.
"""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CONFIGS = DATA / "configs"
DEFAULT_CONFIG = CONFIGS / "embedded" / "default.yaml"
DEFAULT_BOARD = DATA / "leaderboards" / "embedded-default" / "leaderboard.json"


def shown(path: Path) -> str:
    """``path`` as a user reads it: relative to the shipped data folder when it lies there."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(DATA))
    except ValueError:
        return str(path)
