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
import struct
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


_IN_BACKGROUND = False  # set in the children of :class:`Background`


def _cores() -> int:
    """The cores a map here may use: all of them, but in a child of :class:`Background`, two fewer (its
    parent and the other background work use them: on two cores, forking workers there only adds their
    cost, about 1 s of CPU for the sensitivity tables' pool)."""
    cores = os.cpu_count() or 1
    return max(1, cores - 2) if _IN_BACKGROUND else cores


def fork_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(x) for x in items]``, on up to ``os.cpu_count()`` forked processes (only items and results are pickled;
    fewer in a child of :class:`Background`: :func:`_cores`)."""
    global _CALL
    from threadpoolctl import threadpool_limits

    workers = min(len(items), _cores())
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


QUEUED = 1024  # items a Background queues at most (4 bytes each: PIPE_BUF)


class Background(Generic[T, R]):
    """``[fn(x) for x in items]`` started now in up to ``os.cpu_count()`` forked processes (one BLAS
    thread each; at most ``processes``; one process for one item: this process has other work
    meanwhile); :meth:`results` collects it, in order.

    Each process takes the next item not yet taken when it is done with one (a queue: the indices
    in a pipe, read 4 bytes at a time), so that processes drawing cheap items do not wait on
    one that drew the dear ones; more than :data:`QUEUED` items are dealt out instead (item k
    to process k mod their number).

    On one core, in a daemon process or where fork does not exist, nothing starts and
    :meth:`results` maps here. A process that fails (or whose result does not come back) has
    its items mapped here by :meth:`results`, so an error is raised here, with its traceback.
    Processes never collected are ended when the object goes (or at exit).
    """

    def __init__(self, fn: Callable[[T], R], items: Sequence[T], *, processes: int | None = None) -> None:
        self._fn, self._items = fn, list(items)
        # (pid, read end of its pipe, item indices or None: those it took from the queue) of the
        # children not yet collected; shared with the finalizer, which ends those still there
        self._children: list[tuple[int, int, list[int] | None]] = []
        weakref.finalize(self, _end, self._children)
        workers = min(len(self._items), os.cpu_count() or 1, processes or len(self._items))
        if not self._items or (os.cpu_count() or 1) < 2 or not _can_fork():
            return
        from threadpoolctl import threadpool_limits

        queue = None
        if workers > 1 and len(self._items) <= QUEUED:
            # every index written before the children exist: PIPE_BUF (4096) bytes at most, which a pipe
            # takes at once, and no writer is left, so a child reads to the end of the queue and stops
            queue, write = os.pipe()
            os.write(write, b"".join(struct.pack("<I", i) for i in range(len(self._items))))
            os.close(write)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as fork_map
        try:
            with threadpool_limits(limits=1, user_api="blas"):  # the children are forked with one BLAS thread
                for k in range(workers):
                    indices = None if queue is not None else list(range(k, len(self._items), workers))
                    read, write = os.pipe()
                    pid = os.fork()
                    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
                        try:
                            os.close(read)
                            _child(write, fn, self._items, indices if queue is None else queue)
                        finally:
                            os._exit(1)  # never back into the parent's code
                    os.close(write)
                    self._children.append((pid, read, indices))
        finally:
            if queue is not None:
                os.close(queue)

    def results(self) -> list[R]:
        out: list = [None] * len(self._items)
        done = [False] * len(self._items)
        while self._children:
            pid, read, _ = self._children.pop(0)
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
            for i, v in values:
                out[i], done[i] = v, True
        for i, item in enumerate(self._items):
            if not done[i]:
                out[i] = self._fn(item)
        return out


def _taken(source: list[int] | int):
    """The indices a child maps: its list, or those it takes from the queue (a pipe) until it is empty."""
    if isinstance(source, list):
        yield from source
        return
    while len(data := os.read(source, 4)) == 4:  # the queue only ever holds whole indices
        yield struct.unpack("<I", data)[0]


def _child(write: int, fn: Callable, items: list, source: list[int] | int) -> None:  # pragma: no cover - the child
    """Map ``fn`` over the items of ``source`` (:func:`_taken`) and write the pickled ``(index, result)``
    pairs to the pipe; never returns. On an error it stops: the parent maps that item again (and raises)."""
    global _IN_BACKGROUND
    code = 1
    _IN_BACKGROUND = True
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child; the parent raises
        done = []
        try:
            for i in _taken(source):
                done.append((i, fn(items[i])))
        except BaseException:  # noqa: BLE001 - the parent maps this item itself and raises there
            pass
        try:
            payload = pickle.dumps(done)
        except Exception:  # noqa: BLE001 - a result that does not pickle: the parent maps them all
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
