"""The Ray executor (``facebench run CONFIG --executor ray [--address ADDR]``): every job a Ray task.

A benchmark's jobs are submitted at once; the phase order (pre-train -> extract -> fine-tune ->
score) is carried by Ray's object refs: each task takes as arguments the small "finished" refs
of the jobs it needs (:func:`..jobs.dependencies`), so Ray starts it only once they are done
(no polling). Each task returns two objects: that small marker (what dependants wait on) and the
job's ``(seconds, value, cost)``, which the driver fetches as tasks finish (``ray.wait``) and
records in its own results store, one transaction per job, exactly as the local executors do.

* Resources per job: the config's ``ray.resources`` (per job kind, ``default`` for all), updated
  by a benchmark's ``resources`` (``num_cpus``, ``num_gpus``, ``memory`` in bytes).
* A job whose worker dies (killed, out of memory, node lost) is run again by Ray up to
  ``ray.max_retries`` times, then recorded as failed with Ray's error; a job that raises is not
  retried (the same error would come again) and is recorded as failed. Either way the run goes
  on; a job whose dependency was lost is recorded as failed too.
* Artefacts (pre-trained weights, feature files, predictions) are written by the workers under
  the config's ``cache_dir``, which every node must be able to read and write at the same path
  (a shared filesystem on a cluster); the driver records those paths.
* Ray 2.60 refuses to start without an auth token unless ``RAY_AUTH_MODE=disabled``: it is set
  here when the environment does not set it.
* Without an address a local cluster is started (and stopped at the end of the run); its
  workers get the driver's ``sys.path`` so that plugins importable here are importable there.
  On a cluster, facebench and the config's plugins must be installed on every node.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Iterator, Mapping

from ..jobs import Job, dependencies


def _call(fn, *needed) -> tuple[bool, tuple[str, Any]]:
    """One job on a Ray worker: (finished marker, ("ok", result) | ("error", exception))."""
    try:
        return True, ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - reported per job, the run goes on
        import pickle

        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel back: keep its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return True, ("error", exc)


def ensure_auth_mode() -> None:
    """Ray 2.60 needs a token unless ``RAY_AUTH_MODE=disabled``; set it when unset."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")


class JobLost(RuntimeError):
    """Ray could not run a job (its worker died more than max_retries times, or a dependency was lost)."""


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, *, max_retries: int = 3,
                 resources: Mapping[str, Mapping[str, Any]] | None = None,
                 benchmark_resources: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 init_kwargs: Mapping[str, Any] | None = None) -> None:
        self.address = address
        self.max_retries = int(max_retries)
        self.resources = {k: dict(v) for k, v in (resources or {}).items()}
        self.benchmark_resources = {b: {k: dict(v) for k, v in r.items()} for b, r in (benchmark_resources or {}).items()}
        self.init_kwargs = dict(init_kwargs or {})
        self._started_here = False
        self.runtime_env: dict[str, Any] | None = None  # per-task runtime env (tests: environment variables)

    @classmethod
    def from_config(cls, cfg, address: str | None = None) -> "RayExecutor":
        return cls(address or cfg.ray.address, max_retries=cfg.ray.max_retries, resources=cfg.ray.resources,
                   benchmark_resources={b.id: b.resources for b in cfg.benchmarks if b.resources})

    def resources_for(self, job: Job) -> dict[str, Any]:
        """Ray task options for ``job``: default < kind < the benchmark's default < the benchmark's kind."""
        out = {"num_cpus": 1}
        bench = self.benchmark_resources.get(job.benchmark, {})
        for layer in (self.resources.get("default"), self.resources.get(job.kind), bench.get("default"),
                      bench.get(job.kind)):
            out.update(layer or {})
        return out

    def _ray(self):
        ensure_auth_mode()
        import ray

        if not ray.is_initialized():
            kwargs = dict(self.init_kwargs)
            if self.address is None:  # a local cluster: its workers import what this process can
                path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
                kwargs.setdefault("runtime_env", {"env_vars": {"PYTHONPATH": path}})
                kwargs.setdefault("include_dashboard", False)
            ray.init(address=self.address, **kwargs)
            self._started_here = True
        return ray

    def close(self) -> None:
        if self._started_here:
            import ray

            ray.shutdown()
            self._started_here = False

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Any, BaseException | None]]:
        yield from self.run_phases([list(jobs)])

    def run_phases(self, phases: list[list[Job]]) -> Iterator[tuple[Job, Any, BaseException | None]]:
        jobs = [job for phase in phases for job in phase]
        if not jobs:
            return
        ray = self._ray()
        remote = ray.remote(_call)
        needs = dependencies(phases)
        finished: dict[int, Any] = {}  # id(job) -> its "finished" ref
        pending: dict[Any, Job] = {}  # result ref -> job
        for job in jobs:
            extra = {"runtime_env": self.runtime_env} if self.runtime_env else {}
            marker, result = remote.options(
                **extra, num_returns=2, max_retries=self.max_retries, retry_exceptions=False, name=job.label[:100],
                **self.resources_for(job),
            ).remote(job.fn, *[finished[id(dep)] for dep in needs[id(job)]])
            finished[id(job)] = marker
            pending[result] = job
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    job = pending.pop(ref)
                    try:
                        status, value = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # worker died past max_retries, dependency lost
                        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                        yield job, None, JobLost(f"{type(exc).__name__}: {first}")
                        continue
                    yield (job, value, None) if status == "ok" else (job, None, value)
        except BaseException:
            for ref in pending:  # Ctrl-C or the consumer stopped: nothing more runs
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - already finished or gone
                    pass
            raise
