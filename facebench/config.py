"""Benchmark configs (YAML): what to run, validated before any expensive job starts.

```yaml
name: embedded                        # run name; boards go to leaderboards/<name>/ by default
store: .facebench/results.sqlite      # relative paths are relative to the working directory
cache_dir: .facebench/cache
plugins: []                           # extra plugin modules to load (tasks, zoos, datasets, metrics)
download: false                       # may datasets/weights be downloaded?
metrics: all                          # or a list of names, or {name: {param: value}}
datasets:                             # named dataset instances: a registered type and its params
  semeion: {type: image-folder, root: ~/data/semeion}
benchmarks:
  - task: classification
    zoo: embedded-classification
    targets: [semeion, digits, mnist-5k]   # instances above, or registered datasets used as they are
    seeds: [0, 1, 2]
    finetune: {epochs: 20, lr: 0.01}  # updates the task's default fine-tuning hyper-parameters
    per_target:                       # what differs for some targets (updates the block's settings)
      semeion: {finetune: {lr: 0.005}}
    options: {}                       # task options (sizes, image size, ...)
    diagnostics: [variance_collapse]  # per-epoch diagnostics to record while fine-tuning
    resources: {finetune: {num_gpus: 1}}  # Ray only: per job kind, updates the top-level ray.resources
    notes: what the zoo's models differ in, what the recipe favours   # shown on the board (not in job keys)
workers: 1                            # local executor: run a phase's independent jobs in N processes
ray:                                  # facebench run --executor ray
  address: null                       # null: a local cluster; "auto", "ray://head:10001", ...
  max_retries: 3                      # times a job whose worker died is run again
  resources:                          # per job kind (default: every kind): num_cpus, num_gpus, memory (bytes)
    default: {num_cpus: 1}
    finetune: {num_cpus: 1, num_gpus: 0}
scoring: {isolation: process, time_limit_s: 1800, memory_limit_mb: 16384}  # facebench.isolation
sensitivity:                          # the board's sensitivity tables (facebench.leaderboard.sensitivity)
  face: {pca_dim: [16, 64]}           # metric -> parameter -> values; {} turns a metric's own grid off
verdict: {reliability_threshold: 0.8, exclude_flagged: false}   # flag, and maybe leave out, noisy targets
```

``workers``, ``ray``, ``scoring``, ``sensitivity``, ``verdict`` and a benchmark's ``notes`` say how
jobs run or what the board shows, not what a job computes: they are not part of the config's digest.

A benchmark is one task x zoo (one section of the boards) and a result's identity is (task, zoo,
target): two blocks of a config with the same task and zoo are refused, naming both.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .checks import refuse_unknown
from .errors import ConfigError
from .isolation import DEFAULT_LIMITS, Limits, parse_limits
from .suggest import did_you_mean

ORIGINS = "_origins"  # private key: where each benchmark of an expanded config was written
#: top-level keys that say where results go, how jobs run or what the board shows: not in the digest
NOT_IN_DIGEST = ("store", "cache_dir", "name", "scoring", "workers", "ray", "sensitivity", "verdict", ORIGINS)
MAX_SEED = 2**32 - 1  # seeds are unsigned 32-bit (numpy's legacy seeding; every library takes them)


@dataclass(frozen=True)
class DatasetConfig:
    """A named dataset instance: ``name: {type: <registered dataset>, <param>: <value>, ...}``."""

    name: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkConfig:
    task: str
    zoo: str
    targets: tuple[str, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    finetune: Mapping[str, Any] = field(default_factory=dict)  # updates the task's default_finetune
    options: Mapping[str, Any] = field(default_factory=dict)
    diagnostics: tuple[str, ...] = ()
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # Ray: job kind -> resources
    where: str = ""  # "config.yaml: benchmarks[0]", for messages
    # target -> fine-tuning hyper-parameters that update ``finetune`` for that target only
    target_finetune: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: str = ""  # free text the board shows with this benchmark (what the zoo's models differ in, ...)

    @property
    def id(self) -> str:
        """Benchmark id: task/zoo (the leaderboard groups by it)."""
        return f"{self.task}/{self.zoo}"

    def finetune_for(self, target: str) -> dict[str, Any]:
        """The block's ``finetune`` updated by ``per_target.<target>.finetune`` (if any)."""
        return {**dict(self.finetune), **dict(self.target_finetune.get(target, {}))}


@dataclass(frozen=True)
class RunConfig:
    name: str
    benchmarks: tuple[BenchmarkConfig, ...]
    metrics: Mapping[str, Mapping[str, Any]] | None  # None = every registered metric
    datasets: Mapping[str, DatasetConfig] = field(default_factory=dict)
    store: str = ".facebench/results.sqlite"
    cache_dir: str = ".facebench/cache"
    plugins: tuple[str, ...] = ()
    download: bool = False
    scoring: Limits = DEFAULT_LIMITS  # how metric scoring is isolated (time and memory limits)
    workers: int = 1
    ray: "RayConfig" = field(default_factory=lambda: RayConfig())
    sensitivity: Mapping[str, Mapping[str, tuple[Any, ...]]] = field(default_factory=dict)  # metric -> param -> values
    verdict: Mapping[str, Any] = field(default_factory=dict)  # the board's verdict settings (parse_verdict)
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Content hash of what determines results (not where they are stored)."""
        keep = {k: v for k, v in self.raw.items() if k not in NOT_IN_DIGEST}
        keep["benchmarks"] = [{k: v for k, v in b.items() if k not in ("resources", "notes")} if isinstance(b, Mapping)
                              else b for b in keep.get("benchmarks") or []]
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"{where}: missing required key {key!r}")
    return mapping[key]


def _refuse_unknown(keys: Any, known: set[str], where: str) -> None:
    """``<where>: unknown key(s) ...; did you mean ...? (known: ...)`` (:func:`facebench.checks.refuse_unknown`)."""
    refuse_unknown(keys, set(known), where, "key")


def _name(mapping: Mapping[str, Any], key: str, where: str) -> str:
    value = _require(mapping, key, where)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key!r} must be a non-empty name, got {value!r}")
    return value


def parse_config(raw: Mapping[str, Any], source: str = "<dict>") -> RunConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a config must be a YAML mapping")
    raw = dict(raw)
    origins = list(raw.pop(ORIGINS, None) or [])
    known = {"name", "benchmarks", "metrics", "store", "cache_dir", "plugins", "download", "description", "include",
             "datasets", "scoring", "workers", "ray", "sensitivity", "verdict"}
    _refuse_unknown(raw, known, source)
    benchmarks_raw = _require(raw, "benchmarks", source)
    if benchmarks_raw is not None and not isinstance(benchmarks_raw, list):
        raise ConfigError(f"{source}: 'benchmarks' must be a list of benchmarks, got {type(benchmarks_raw).__name__}")
    for key in ("store", "cache_dir", "name"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise ConfigError(f"{source}: {key!r} must be a non-empty string, got {raw[key]!r}")
    plugins = raw.get("plugins") or []
    if isinstance(plugins, str):
        plugins = [plugins]
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"{source}: 'plugins' must be a list of module names, got {raw.get('plugins')!r}")
    if not isinstance(raw.get("download", False), bool):
        raise ConfigError(f"{source}: 'download' must be true or false, got {raw['download']!r}")
    datasets = _parse_datasets(raw.get("datasets"), source)
    benches = []
    seen: dict[tuple[str, str, str], str] = {}
    blocks: dict[tuple[str, str], str] = {}
    for i, b in enumerate(benchmarks_raw or []):
        where = origins[i] if i < len(origins) and origins[i] else f"{source}: benchmarks[{i}]"
        if not isinstance(b, Mapping):
            raise ConfigError(f"{where}: must be a mapping (task, zoo, targets, ...), got {b!r}")
        if "nc_trace" in b:
            raise ConfigError(f"{where}: 'nc_trace' is now a diagnostic: write 'diagnostics: [variance_collapse]'")
        bknown = {"task", "zoo", "targets", "seeds", "finetune", "options", "diagnostics", "resources", "per_target",
                  "notes"}
        _refuse_unknown(b, bknown, where)
        targets = _require(b, "targets", where)
        if isinstance(targets, str):
            targets = [targets]
        if not targets:
            raise ConfigError(f"{where}: 'targets' is empty")
        if not isinstance(targets, list) or not all(isinstance(t, str) and t.strip() for t in targets):
            raise ConfigError(f"{where}: 'targets' must be a list of dataset names, got {targets!r}")
        seeds = b.get("seeds", [0, 1, 2])
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            seeds = [seeds]
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ConfigError(f"{where}: 'seeds' must be a non-empty list of integers, got {seeds!r}")
        if any(s < 0 for s in seeds):
            raise ConfigError(f"{where}: 'seeds' must be >= 0 (torch and numpy seeds are unsigned), got {list(seeds)}")
        if any(s > MAX_SEED for s in seeds):
            raise ConfigError(f"{where}: 'seeds' must be <= {MAX_SEED} (unsigned 32-bit seeds), got {list(seeds)}")
        repeated = sorted({s for s in seeds if list(seeds).count(s) > 1})
        if repeated:
            raise ConfigError(f"{where}: seed(s) {repeated} listed twice in 'seeds': each seed is one fine-tuning")
        finetune = b.get("finetune") or {}
        if not isinstance(finetune, Mapping):
            raise ConfigError(f"{where}: 'finetune' must be a mapping of hyper-parameters, got {finetune!r}")
        if not isinstance(b.get("options") or {}, Mapping):
            raise ConfigError(f"{where}: 'options' must be a mapping of task options, got {b['options']!r}")
        diagnostics = b.get("diagnostics") or []
        if isinstance(diagnostics, str):
            diagnostics = [diagnostics]
        if not isinstance(diagnostics, list) or not all(isinstance(d, str) for d in diagnostics):
            raise ConfigError(f"{where}: 'diagnostics' must be a list of diagnostic names, got {b['diagnostics']!r}")
        bench = BenchmarkConfig(
            task=_name(b, "task", where),
            zoo=_name(b, "zoo", where),
            targets=tuple(str(t) for t in targets),
            seeds=tuple(seeds),
            finetune=dict(finetune),
            options=dict(b.get("options") or {}),
            diagnostics=tuple(str(d) for d in diagnostics),
            resources=_parse_resources(b.get("resources"), f"{where}: resources"),
            where=where,
            target_finetune=_parse_per_target(b.get("per_target"), targets, f"{where}: per_target"),
            notes=_notes(b.get("notes"), where),
        )
        if (bench.task, bench.zoo) in blocks:
            raise ConfigError(
                f"{where}: task {bench.task} with zoo {bench.zoo} is already a benchmark in {blocks[bench.task, bench.zoo]}; "
                "a benchmark (one board section) is one task x zoo: list every target in that block "
                "(per-target data settings go under options.datasets.<target>)"
            )
        blocks[bench.task, bench.zoo] = where
        for target in bench.targets:
            identity = (bench.task, bench.zoo, target)
            if identity in seen:
                raise ConfigError(
                    f"{where}: benchmark (task {bench.task}, zoo {bench.zoo}, target {target}) is already defined "
                    f"in {seen[identity]}; a benchmark's identity must be unique (name the second dataset differently)"
                )
            seen[identity] = where
        benches.append(bench)
    if not benches:
        raise ConfigError(f"{source}: 'benchmarks' is empty")
    metrics_raw = raw.get("metrics", "all")
    metrics: dict[str, dict[str, Any]] | None
    if metrics_raw in (None, "all"):
        metrics = None
    elif isinstance(metrics_raw, str):
        metrics = {metrics_raw: {}}
    elif isinstance(metrics_raw, list):
        metrics = {str(m): {} for m in metrics_raw}
    elif isinstance(metrics_raw, Mapping):
        bad_params = [str(k) for k, v in metrics_raw.items() if v is not None and not isinstance(v, Mapping)]
        if bad_params:
            raise ConfigError(f"{source}: metrics.{bad_params[0]}: parameters must be a mapping name -> value")
        metrics = {str(k): dict(v or {}) for k, v in metrics_raw.items()}
    else:
        raise ConfigError(f"{source}: 'metrics' must be 'all', a list of names or a mapping name -> params, got {metrics_raw!r}")
    return RunConfig(
        name=str(raw.get("name", Path(source).stem)),
        benchmarks=tuple(benches),
        metrics=metrics,
        datasets=datasets,
        store=str(raw.get("store", ".facebench/results.sqlite")),
        cache_dir=str(raw.get("cache_dir", ".facebench/cache")),
        plugins=tuple(plugins),
        download=bool(raw.get("download", False)),
        scoring=parse_limits(raw.get("scoring"), source),
        workers=_parse_workers(raw.get("workers", 1), source),
        ray=_parse_ray(raw.get("ray"), source),
        sensitivity=parse_sensitivity(raw.get("sensitivity"), source),
        verdict=parse_verdict(raw.get("verdict"), source),
        source=source,
        raw=dict(raw),
    )


def parse_sensitivity(raw: Any, source: str) -> dict[str, dict[str, tuple[Any, ...]]]:
    """``sensitivity: {<metric>: {<param>: [values]}}`` -> metric -> param -> values (names are checked at resolve)."""
    if raw is None:
        return {}
    where = f"{source}: sensitivity"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping metric -> {{parameter: [values]}}, got {raw!r}")
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for metric, grid in raw.items():
        grid = {} if grid is None else grid
        if not isinstance(grid, Mapping):
            raise ConfigError(f"{where}.{metric}: must be a mapping parameter -> [values], got {grid!r}")
        for param, values in grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"{where}.{metric}.{param}: must be a non-empty list of values, got {values!r}")
        out[str(metric)] = {str(k): tuple(v) for k, v in grid.items()}
    return out


VERDICT_KEYS = ("reliability_threshold", "exclude_flagged")


def parse_verdict(raw: Any, source: str) -> dict[str, Any]:
    """``verdict: {reliability_threshold: 0.9, exclude_flagged: true}``: how the board judges.

    ``reliability_threshold`` (default 0.8): a target whose ground truth's full-seed reliability
    (τ_w) is below it is flagged; ``exclude_flagged`` (default false): flagged targets are left
    out of the comparisons and the Ranking's mean (their tables stay on the board).
    """
    if raw is None:
        return {}
    where = f"{source}: verdict"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping ({', '.join(VERDICT_KEYS)}), got {raw!r}")
    _refuse_unknown(raw, set(VERDICT_KEYS), where)
    out: dict[str, Any] = {}
    if "reliability_threshold" in raw:
        t = raw["reliability_threshold"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not -1 <= t <= 1:
            raise ConfigError(f"{where}.reliability_threshold: must be a τ_w in [-1, 1], got {t!r}")
        out["reliability_threshold"] = float(t)
    if "exclude_flagged" in raw:
        if not isinstance(raw["exclude_flagged"], bool):
            raise ConfigError(f"{where}.exclude_flagged: must be true or false, got {raw['exclude_flagged']!r}")
        out["exclude_flagged"] = raw["exclude_flagged"]
    return out


def _notes(raw: Any, where: str) -> str:
    """``notes``: text for the board (not part of any job's key)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: 'notes' must be text, got {raw!r}")
    return " ".join(raw.split())


def _parse_per_target(raw: Any, targets: list[str], where: str) -> dict[str, dict[str, Any]]:
    """``per_target: {<target>: {finetune: {...}}}`` -> ``{target: finetune updates}``.

    A target's own settings update the block's for that target only: the other targets' jobs, and
    their keys in the store, stay the same. Only ``finetune`` may differ (seeds and options are
    the block's: a board compares every target over the same seeds).
    """
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must map target names to {{finetune: {{...}}}}")
    out: dict[str, dict[str, Any]] = {}
    for target, entry in raw.items():
        if target not in targets:
            raise ConfigError(f"{where}: {target!r} is not one of this block's targets ({', '.join(targets)})"
                              f"{did_you_mean(str(target), set(targets))}")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}.{target}: must be a mapping with 'finetune'")
        _refuse_unknown(entry, {"finetune"}, f"{where}.{target}")
        finetune = entry.get("finetune") or {}
        if not isinstance(finetune, Mapping):
            raise ConfigError(f"{where}.{target}.finetune: must be a mapping of hyper-parameters")
        out[str(target)] = dict(finetune)
    return out


RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory")
JOB_KINDS = ("default", "pretrain", "extract", "finetune", "score")


@dataclass(frozen=True)
class RayConfig:
    """How ``--executor ray`` runs jobs: the cluster, retries and per-kind resources."""

    address: str | None = None
    max_retries: int = 3
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _parse_workers(value: Any, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{source}: 'workers' must be an integer >= 1 (processes running jobs), got {value!r}")
    return value


def _parse_resources(raw: Any, where: str) -> dict[str, dict[str, Any]]:
    """``{kind: {num_cpus, num_gpus, memory}}`` for kinds in JOB_KINDS; numbers >= 0."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must map job kinds ({', '.join(JOB_KINDS)}) to resources")
    out: dict[str, dict[str, Any]] = {}
    for kind, res in raw.items():
        if kind not in JOB_KINDS:
            raise ConfigError(f"{where}: unknown job kind {kind!r} (known: {', '.join(JOB_KINDS)})")
        if not isinstance(res, Mapping):
            raise ConfigError(f"{where}.{kind}: must be a mapping of {', '.join(RESOURCE_KEYS)}")
        for key, value in res.items():
            if key not in RESOURCE_KEYS:
                raise ConfigError(f"{where}.{kind}: unknown resource {key!r} (known: {', '.join(RESOURCE_KEYS)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{where}.{kind}.{key}: must be a number >= 0, got {value!r}")
        out[str(kind)] = dict(res)
    return out


def _parse_ray(raw: Any, source: str) -> RayConfig:
    if raw in (None, {}):
        return RayConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: 'ray' must be a mapping (address, max_retries, resources)")
    _refuse_unknown(raw, {"address", "max_retries", "resources"}, f"{source}: ray")
    retries = raw.get("max_retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < -1:
        raise ConfigError(f"{source}: ray.max_retries must be an integer >= 0 (-1: retry for ever), got {retries!r}")
    address = raw.get("address")
    return RayConfig(None if address is None else str(address), retries,
                     _parse_resources(raw.get("resources"), f"{source}: ray.resources"))


def _parse_datasets(raw: Any, source: str) -> dict[str, DatasetConfig]:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: 'datasets' must map names to {{type: <dataset>, <param>: <value>}}")
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or not entry.get("type"):
            raise ConfigError(f"{source}: datasets.{name}: needs a 'type' (a registered dataset, e.g. image-folder)")
        params = {str(k): v for k, v in entry.items() if k != "type"}
        out[str(name)] = DatasetConfig(str(name), str(entry["type"]), params)
    return out


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message on one line: the problem and where (1-based line and column)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({_yaml_problem(exc)})") from None


def expand_includes(raw: Any, path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """``include: [a.yaml, ...]`` (paths relative to the including file) appends their benchmarks.

    The embedded default includes one config per task, so a new task joins the default run by
    adding one line, without touching the core.
    """
    if not isinstance(raw, Mapping) or "include" not in raw:
        return raw
    raw = dict(raw)
    includes = raw.pop("include") or []
    benchmarks = list(raw.get("benchmarks") or [])
    origins = [f"{path.name}: benchmarks[{i}]" for i in range(len(benchmarks))]
    datasets = dict(raw.get("datasets") or {})
    for inc in [includes] if isinstance(includes, str) else includes:
        sub = (path.parent / inc).resolve()
        if sub in seen:
            raise ConfigError(f"{path}: include cycle through {sub}")
        if not sub.exists():
            raise ConfigError(f"{path}: included config {inc!r} not found ({sub})")
        child = expand_includes(_read_yaml(sub), sub, (*seen, sub))
        if not isinstance(child, Mapping):
            raise ConfigError(f"{sub}: a config must be a YAML mapping")
        child_benchmarks = list(child.get("benchmarks") or [])
        child_origins = list(child.get(ORIGINS) or [f"{sub.name}: benchmarks[{i}]" for i in range(len(child_benchmarks))])
        benchmarks.extend(child_benchmarks)
        origins.extend(child_origins)
        for name, entry in (child.get("datasets") or {}).items():
            if name in datasets and datasets[name] != entry:
                raise ConfigError(f"{sub}: dataset {name!r} is defined differently in {path.name}")
            datasets[name] = entry
    raw["benchmarks"] = benchmarks
    raw[ORIGINS] = origins
    if datasets:
        raw["datasets"] = datasets
    return raw


def load_config(path: str | Path) -> RunConfig:
    path = Path(path)
    raw = expand_includes(_read_yaml(path), path.resolve(), (path.resolve(),))
    return parse_config(raw, str(path))
