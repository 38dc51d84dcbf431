"""Run a callable in a forked worker process under a time and a memory limit.

Used to score metrics (plugins included) so that one that hangs, leaks memory or crashes its
interpreter is stopped and reported while the run goes on: the parent waits on a pipe for at
most ``time_limit_s`` seconds and then kills the worker (SIGKILL), so the limit stops a hung
computation rather than being checked afterwards. The worker's address space is capped with
``resource.setrlimit(RLIMIT_AS)`` at what it inherited plus ``memory_limit_mb``, so a leak past
the limit ends in a ``MemoryError`` inside the worker (reported) instead of in the machine's
OOM killer.

The worker is forked (copy-on-write: the metric objects, plugins and loaded feature bundles are
not pickled, only the result comes back). OpenMP runs on one thread in the worker (libgomp cannot
be used after fork once the parent has used it; see :func:`_child`). Where ``fork`` does not exist, or with
``isolation: in-process`` (for a debugger), the callable runs in this process without limits.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .errors import ConfigError, FacebenchError
from .suggest import did_you_mean

MODES = ("process", "in-process")


class IsolationError(FacebenchError):
    """The worker was stopped (time or memory limit) or died, or the callable raised there."""


@dataclass(frozen=True)
class Limits:
    """How metric scoring is isolated: config key ``scoring:`` (see :func:`parse_limits`)."""

    isolation: str = "process"  # "process" | "in-process"
    time_limit_s: float | None = 1800.0  # per metric and benchmark target (all models of the zoo)
    memory_limit_mb: float | None = 16384.0  # address space the worker may add to what it inherits

    @property
    def isolated(self) -> bool:
        return self.isolation == "process" and hasattr(os, "fork")


DEFAULT_LIMITS = Limits()


def parse_limits(raw: Any, where: str) -> Limits:
    """``scoring: {isolation: process|in-process, time_limit_s: 1800, memory_limit_mb: 16384}``
    (``null`` for no limit)."""
    if raw is None:
        return DEFAULT_LIMITS
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: 'scoring' must be a mapping (isolation, time_limit_s, memory_limit_mb)")
    known = {"isolation", "time_limit_s", "memory_limit_mb"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: scoring: unknown key(s) {', '.join(sorted(map(str, unknown)))}"
                          f"{did_you_mean(sorted(map(str, unknown))[0], known)} (known: {', '.join(sorted(known))})")
    isolation = raw.get("isolation", DEFAULT_LIMITS.isolation)
    if isolation not in MODES:
        raise ConfigError(f"{where}: scoring.isolation must be one of {', '.join(MODES)}, got {isolation!r}")
    values = {}
    for key in ("time_limit_s", "memory_limit_mb"):
        value = raw.get(key, getattr(DEFAULT_LIMITS, key))
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
            raise ConfigError(f"{where}: scoring.{key} must be a positive number or null (no limit), got {value!r}")
        values[key] = None if value is None else float(value)
    return Limits(isolation, **values)


def _address_space_bytes() -> int:
    """This process's current virtual size (Linux /proc), 0 where unknown."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when its parent dies (a killed run leaves no scoring worker behind
    holding its files and its run lock)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(fn: Callable[[], Any], conn, memory_limit_mb: float | None) -> None:
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent in one line, not as a C-level stack dump
    _die_with_parent()
    try:  # GNU libgomp is not fork-safe: an OpenMP region after fork, in a process whose parent had run
        # one (torch fine-tuning, scikit-learn), waits for ever on the parent's vanished threads
        # (measured: KMeans + torch.mm in the parent, again in the worker: hung, killed at the limit).
        # One OpenMP thread in the worker avoids the team; BLAS (OpenBLAS, fork-safe) keeps its threads.
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="openmp")
    except ImportError:
        pass
    if memory_limit_mb is not None:
        import resource

        limit = _address_space_bytes() + int(memory_limit_mb * 2**20)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        result = fn()
    except MemoryError as exc:
        message = f"memory limit exceeded ({memory_limit_mb:g} MB beyond the worker's start)" if memory_limit_mb \
            else f"out of memory ({exc})"
        conn.send(("error", message, ""))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as text
        text = str(exc) if isinstance(exc, FacebenchError) else f"{type(exc).__name__}: {exc}"
        conn.send(("error", text, traceback.format_exc()))
    else:
        try:
            conn.send(("ok", result))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            conn.send(("error", f"result cannot be sent back ({type(exc).__name__}: {exc})", ""))
    finally:
        conn.close()


def run_limited(fn: Callable[[], Any], limits: Limits, what: str) -> Any:
    """``fn()`` under ``limits``; raises :class:`IsolationError` naming ``what`` when it is stopped
    or fails in the worker. Without isolation, ``fn()`` runs here and its exceptions pass through."""
    if not limits.isolated or multiprocessing.current_process().daemon:  # a daemon may not fork workers
        return fn()
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, send, limits.memory_limit_mb), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(limits.time_limit_s):
            proc.kill()
            raise IsolationError(f"{what}: stopped after its time limit of {limits.time_limit_s:g}s "
                                 "(scoring.time_limit_s)")
        try:
            message = receive.recv()
        except EOFError:
            proc.join(5)
            code = proc.exitcode
            how = f"killed by signal {signal.Signals(-code).name}" if code is not None and code < 0 \
                else f"exit status {code}"
            raise IsolationError(f"{what}: the scoring worker died ({how})") from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if message[0] == "ok":
        return message[1]
    raise IsolationError(f"{what}: {message[1]}")
