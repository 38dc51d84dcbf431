"""One writer at a time per results store: an exclusive lock next to the store.

``facebench run`` and ``facebench score --store`` (which records its scores) take it.

The lock is ``<store>.lock``, held with ``fcntl.flock`` for the whole run and holding a line of
JSON that names its holder (pid, host, start time). A second run on the same store is refused
with a message naming the holder, before it writes anything. The kernel releases a flock when
its process dies, however it dies (SIGKILL included), so a lock left by a killed run is stale
by construction and the next run takes it over; the file itself stays (removing it would let
two runs lock two different files). flock is advisory and local: a store on a network file
system shared by several machines is not protected by it.
"""
from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import socket
from pathlib import Path

from ..errors import StoreError


def lock_path(store: str | os.PathLike[str]) -> Path:
    store = Path(store)
    return store.with_name(store.name + ".lock")


class RunLock:
    """Context manager: ``with RunLock(store_path): ...``; raises :class:`StoreError` if held."""

    def __init__(self, store: str | os.PathLike[str], command: str = "facebench run") -> None:
        self.store = Path(store)
        self.path = lock_path(store)
        self.command = command  # what the holder is doing, for the refusal of the next one
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds the lock, from the file's contents (best effort)."""
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another process"
        if not info:
            return "another process"
        since = _dt.datetime.fromtimestamp(info.get("started", 0), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{info.get('command', 'facebench run')} pid {info.get('pid')} on host {info.get('host')} (started {since})"

    def acquire(self) -> None:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the run lock ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                raise StoreError(
                    f"{self.store}: in use by {self.holder()}; wait for it to finish, or give another --store"
                ) from None
            raise
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": _dt.datetime.now().timestamp(),
                "command": self.command}
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError:  # a full disk: the lock holds all the same, only its holder goes unnamed
            pass

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
