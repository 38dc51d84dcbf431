"""Close-match hints for misspelt names ("did you mean ...?"), shared by registries and configs."""
from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean a, b?"`` listing up to three close matches of ``name`` in ``known``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""
