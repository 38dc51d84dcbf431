"""Independent pieces of a board computed on every core: figures, sensitivity variants.

:func:`fork_map` maps a function over items in forked worker processes (the workers inherit the
board's data, nothing is pickled but the items and the results). In a daemon process (a board
built inside a worker), on one core or where fork does not exist, it maps here, one after the other.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


_CALL: Callable | None = None  # the function being mapped: forked workers inherit it (closures need no pickling)


def _call(item):
    """One item in a worker, with one BLAS thread: the workers already use every core."""
    from threadpoolctl import threadpool_limits

    assert _CALL is not None
    with threadpool_limits(limits=1, user_api="blas"):
        return _CALL(item)


def fork_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(x) for x in items]``, on up to ``os.cpu_count()`` forked processes (only items and results are pickled)."""
    global _CALL
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2 or mp.current_process().daemon or "fork" not in mp.get_all_start_methods():
        return [fn(x) for x in items]
    # Hugging Face tokenizers (used by a text run in this process) warn on fork unless this is set;
    # the workers draw and score, they never tokenize.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _CALL = fn
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_call, items))
    finally:
        _CALL = None
