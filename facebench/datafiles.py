"""What a user's data files are, as a short key: so that changing them re-runs what used them.

A dataset instance that reads files (an image folder, a segmentation layout, a CSV) names them by
path; a path says nothing about what is in it. :func:`files_fingerprint` summarises the files
under the given paths as SHA-256 over the sorted ``(relative path, size, mtime_ns)`` of every
regular file (a stat per file, no reading: a folder of 100,000 images takes about a second). The
runner puts it in the job keys of features and fine-tunings, so a run after an image was added,
removed or rewritten extracts and fine-tunes again instead of reusing results of other data.
Conservative by design: copying the data elsewhere (new mtimes) re-runs too.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable


def files_fingerprint(paths: Iterable[str | os.PathLike]) -> str:
    """SHA-256 (hex, 16 chars) of the listing of every file under ``paths`` (files or folders).

    A path that does not exist enters as missing (the dataset's own check reports it).
    """
    h = hashlib.sha256()
    for p in sorted({str(Path(p).expanduser()) for p in paths}):
        root = Path(p)
        h.update(f"root\0{p}\0".encode())
        if root.is_file():
            st = root.stat()
            h.update(f"file\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            continue
        if not root.is_dir():
            h.update(b"missing\n")
            continue
        entries = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in filenames:
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                entries.append((os.path.relpath(full, root), st.st_size, st.st_mtime_ns))
        for rel, size, mtime in sorted(entries):
            h.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()[:16]
