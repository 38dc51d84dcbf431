"""Close-match hints for misspelt names ("did you mean ...?"), shared by registries and configs."""
from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean a, b?"`` listing up to three close matches of ``name`` in ``known``, or ``""``.

    Case is ignored in the matching (``LogME`` finds ``logme``); the names are listed as registered.
    """
    names = list(dict.fromkeys(str(k) for k in known))
    by_lower: dict[str, list[str]] = {}
    for k in names:
        by_lower.setdefault(k.lower(), []).append(k)
    close = [k for low in difflib.get_close_matches(str(name).lower(), list(by_lower), n=3) for k in by_lower[low]][:3]
    return f"; did you mean {', '.join(close)}?" if close else ""
