"""Which executor a run uses: the local one (in this process, or N worker processes) or Ray."""
from __future__ import annotations

from .local import Executor, LocalExecutor


def make_executor(cfg, name: str = "local", *, workers: int | None = None, address: str | None = None) -> Executor:
    """The executor a run asks for: ``local`` (``workers`` processes; the config's ``workers:`` when
    None; 1: in this process) or ``ray`` (the config's ``ray:`` section, ``address`` overriding it)."""
    if name == "ray":
        from .ray import RayExecutor

        return RayExecutor.from_config(cfg, address=address)
    if name != "local":
        raise ValueError(f"unknown executor {name!r} (known: local, ray)")
    n = cfg.workers if workers is None else int(workers)
    if n < 1:
        raise ValueError(f"--workers must be >= 1, got {n}")
    if n == 1:
        return LocalExecutor()
    from .pool import ProcessExecutor

    return ProcessExecutor(n)
