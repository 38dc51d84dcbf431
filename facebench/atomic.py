"""Write a file so that readers (and a resumed run) see either the old file or the whole new one.

:func:`replacing` yields a temporary path next to the target; when the block ends normally the
temporary file is moved onto the target with ``os.replace`` (atomic on POSIX within one file
system), and when it raises (a full disk, a read-only directory) the temporary file is removed
and the target is left as it was. A process killed inside the block leaves at most the
temporary file, which the next write of the same target overwrites.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """``with replacing(p) as tmp: write tmp`` -> ``p`` replaced atomically (``suffix``: the temporary
    file's name ending, e.g. ``.tmp.npz`` for numpy, which appends ``.npz`` otherwise)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
