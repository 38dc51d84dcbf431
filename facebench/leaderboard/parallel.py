"""Independent pieces of a board computed on every core: figures, sensitivity variants.

:func:`fork_map` maps a function over items in forked worker processes (the workers inherit the
board's data, nothing is pickled but the items and the results). In a daemon process (a board
built inside a worker), on one core or where fork does not exist, it maps here, one after the other.
:class:`Background` starts such a map in forked processes and returns at once, so that this
process goes on with other work (the board's figures are drawn while its statistics are computed);
:meth:`Background.results` collects it.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import weakref
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Generic, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


_CALL: Callable | None = None  # the function being mapped: forked workers inherit it (closures need no pickling)


def _call(item):
    """One item in a worker (forked with the parent's one BLAS thread: the workers already use every core)."""
    assert _CALL is not None
    return _CALL(item)


def _can_fork() -> bool:
    return not mp.current_process().daemon and "fork" in mp.get_all_start_methods()


def fork_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(x) for x in items]``, on up to ``os.cpu_count()`` forked processes (only items and results are pickled)."""
    global _CALL
    from threadpoolctl import threadpool_limits

    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2 or not _can_fork():
        # one BLAS thread here too: each item is computed as in a worker, and a multi-threaded
        # OpenBLAS spins on small matrices (eigh of a 96 x 96 scatter: 100x slower on a loaded
        # 2-core machine; benchmarks/board_speed.md)
        with threadpool_limits(limits=1, user_api="blas"):
            return [fn(x) for x in items]
    # Hugging Face tokenizers (used by a text run in this process) warn on fork unless this is set;
    # the workers draw and score, they never tokenize.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _CALL = fn
    try:
        # one BLAS thread set in the parent, so that the workers are forked with it
        with threadpool_limits(limits=1, user_api="blas"), \
                ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_call, items))
    finally:
        _CALL = None


class Background(Generic[T, R]):
    """``[fn(x) for x in items]`` started now in up to ``os.cpu_count()`` forked processes (item k
    in process k mod their number, one BLAS thread each; one process for one item: this process
    has other work meanwhile); :meth:`results` collects it, in order.

    On one core, in a daemon process or where fork does not exist, nothing starts and
    :meth:`results` maps here. A process that fails (or whose result does not come back) has
    its items mapped here by :meth:`results`, so an error is raised here, with its traceback.
    Processes never collected are ended when the object goes (or at exit).
    """

    def __init__(self, fn: Callable[[T], R], items: Sequence[T]) -> None:
        self._fn, self._items = fn, list(items)
        # (pid, read end of its pipe, item indices) of the children not yet collected; shared with
        # the finalizer, which ends those still there
        self._children: list[tuple[int, int, list[int]]] = []
        weakref.finalize(self, _end, self._children)
        workers = min(len(self._items), os.cpu_count() or 1)
        if not self._items or (os.cpu_count() or 1) < 2 or not _can_fork():
            return
        from threadpoolctl import threadpool_limits

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as fork_map
        with threadpool_limits(limits=1, user_api="blas"):  # the children are forked with one BLAS thread
            for k in range(workers):
                indices = list(range(k, len(self._items), workers))
                read, write = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
                    os.close(read)
                    _child(write, fn, [self._items[i] for i in indices])
                os.close(write)
                self._children.append((pid, read, indices))

    def results(self) -> list[R]:
        out: list = [None] * len(self._items)
        done = [False] * len(self._items)
        while self._children:
            pid, read, indices = self._children.pop(0)
            try:
                with os.fdopen(read, "rb") as pipe:  # read before waiting: the child writes, then exits
                    payload = pipe.read()
            except BaseException:  # Ctrl-C while waiting: the child goes too
                _stop(pid)
                raise
            _reap(pid)
            try:
                values = pickle.loads(payload)
            except Exception:  # noqa: BLE001 - it failed (or was killed): mapped here below
                continue
            if isinstance(values, list) and len(values) == len(indices):
                for i, v in zip(indices, values):
                    out[i], done[i] = v, True
        for i, item in enumerate(self._items):
            if not done[i]:
                out[i] = self._fn(item)
        return out


def _child(write: int, fn: Callable, items: list) -> None:  # pragma: no cover - runs in the forked child
    """Map ``fn`` over ``items`` and write the pickled results to the pipe; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child; the parent raises
        try:
            payload = pickle.dumps([fn(x) for x in items])
        except BaseException:  # noqa: BLE001 - the parent maps these items itself and raises there
            payload = b""
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        code = 0
    finally:
        os._exit(code)  # no cleanup of the parent's state (atexit handlers, open stores) in the child


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped elsewhere already
        pass


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
    _reap(pid)


def _end(children: list[tuple[int, int, list[int]]]) -> None:
    """Stop and reap the children never collected."""
    while children:
        pid, read, _ = children.pop()
        os.close(read)
        _stop(pid)
