"""Pick a model for your data: rank a zoo's models on one dataset, without fine-tuning any of them.

:func:`rank` resolves the zoo (a registered zoo, a zoo file of references, or a list of
references: :mod:`facebench.references`), checks the dataset and the models with the task's own
``validate``, extracts every model's features of the dataset's training split through the
runner's feature cache (same content key: :func:`~.feature_cache.feature_key`, so features that
a run or an earlier ``rank`` extracted are read back, not computed), scores every metric
(:func:`facebench.score.zoo.score_zoo`, as ``facebench score`` does) and returns a
:class:`RankTable`: per model its score under each metric, its rank, and the time its
extraction (or cache read) and scoring took.

Bad input: references that do not resolve are all named, with what was tried, before anything
runs; a dataset the task refuses (one class, missing files) is refused before any extraction; a
metric that needs more samples per class than the dataset has is dropped with the reason; a
model whose extraction fails or whose features are unusable (constant) is reported on its row
and the others are ranked.
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..bundle import FeatureBundle
from ..errors import BadInputError, ConfigError, FacebenchError
from ..metric_factory import create_metrics
from ..output import dumps, fmt_number
from ..package_data import DEFAULT_BOARD, shown
from ..plugins import get_plugins
from ..references import ConfigZoo, load_zoo_file, parse_references, resolve_references
from ..score.zoo import ZOO, score_zoo
from ..tasks.base import DatasetInstance, ModelSpec, Zoo, find_dataset
from .context import task_context
from .feature_cache import FeatureCache, feature_key

DEFAULT_METRIC_COUNT = 3
DEFAULT_CACHE_DIR = ".facebench/cache"  # the embedded default config's cache_dir: run and rank share it
FOLDER_DATASET = "image-folder"


# -- default metrics ------------------------------------------------------------------------------
def default_metrics(registered: Iterable[str], board: str | Path = DEFAULT_BOARD,
                    count: int = DEFAULT_METRIC_COUNT) -> tuple[list[str], str]:
    """The ``count`` metrics leading the board's overall ranking, and a sentence saying so.

    Only metrics scored on every target of the board and registered here are taken.
    """
    path = Path(board)
    try:
        data = json.loads(path.read_text())
        overall = data["ranking"]["overall"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FacebenchError(f"{path}: cannot read the default board's ranking ({exc}); name metrics with --metric") from None
    known = set(registered)
    rows = [r for r in overall if r.get("targets_covered") == r.get("targets_total") and r.get("metric") in known]
    chosen = rows[:count]
    if not chosen:
        raise FacebenchError(f"{path}: no registered metric in the board's overall ranking; name metrics with --metric")
    names = [r["metric"] for r in chosen]
    taus = ", ".join(f"{r['metric']} {r['mean_tau_w']:.3f}" for r in chosen)
    where = shown(path)
    note = (f"default metrics: {', '.join(names)}, the top {len(names)} of the overall ranking on {where} "
            f"(mean tau_w over {chosen[0].get('targets_total')} targets: {taus})")
    letters = {m["metric"]: set(m.get("letters", "")) for m in (data.get("significance") or {}).get("metrics", [])}
    if all(letters.get(n) for n in names) and set.intersection(*(letters[n] for n in names)):
        note += "; their differences are not significant there"
    return names, note + "; choose others with --metric"


# -- the table ------------------------------------------------------------------------------------
@dataclass
class RankRow:
    """One model: its scores (metric -> score, None where it failed), ranks and timings."""

    model: str
    scores: dict[str, float | None]
    metric_ranks: dict[str, int]
    rank: int | None = None  # by the mean of the metric ranks; None: not ranked (see errors)
    extract_seconds: float | None = None  # extraction (with a source pre-training not yet cached), or the cache read
    cached: bool = False  # the features came from the cache
    score_seconds: float = 0.0  # every metric's per-model step
    features: str | None = None  # the cached feature file (a FeatureBundle .npz)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "rank": self.rank, "scores": dict(self.scores),
                "metric_ranks": dict(self.metric_ranks), "extract_seconds": self.extract_seconds,
                "features_cached": self.cached, "score_seconds": self.score_seconds, "features": self.features,
                "errors": list(self.errors)}


@dataclass
class RankTable:
    """The ranking of a zoo on one dataset: rows best first, the models that could not be ranked last."""

    task: str
    zoo: str
    dataset: str
    metrics: list[str]
    rows: list[RankRow]
    samples: int = 0
    classes: int = 0
    notes: list[str] = field(default_factory=list)  # default metrics, dropped metrics, zoo-level errors

    RANK_RULE = ("rank: by the mean of the model's ranks under the metrics that scored it "
                 "(1 = most transferable)")

    @property
    def ranked(self) -> list[RankRow]:
        return [r for r in self.rows if r.rank is not None]

    @property
    def best(self) -> str | None:
        return self.ranked[0].model if self.ranked else None

    @property
    def failed(self) -> list[RankRow]:
        return [r for r in self.rows if r.errors]

    def scores(self) -> dict[str, dict[str, float]]:
        """metric -> model -> score, as ``facebench score --format json`` prints it."""
        return {m: {r.model: r.scores[m] for r in self.rows if r.scores.get(m) is not None} for m in self.metrics}

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "zoo": self.zoo, "dataset": self.dataset, "split": "train",
                "samples": self.samples, "classes": self.classes, "metrics": list(self.metrics),
                "rank_rule": self.RANK_RULE, "notes": list(self.notes), "rows": [r.as_dict() for r in self.rows]}

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["rank", "model", *self.metrics, "extract_seconds", "features_cached", "score_seconds", "error"])
        for r in self.rows:
            writer.writerow([r.rank if r.rank is not None else "", r.model,
                             *("" if r.scores.get(m) is None else repr(r.scores[m]) for m in self.metrics),
                             "" if r.extract_seconds is None else f"{r.extract_seconds:.3f}", int(r.cached),
                             f"{r.score_seconds:.3f}", " | ".join(r.errors)])
        return out.getvalue()

    def __str__(self) -> str:
        head = (f"{len(self.ranked)} of {len(self.rows)} models of {self.zoo} ranked on {self.dataset} "
                f"({self.task}; train split: {self.samples} samples, {self.classes} classes)")
        header = ["rank", "model", *self.metrics, "extract", "score"]
        body = []
        for r in self.rows:
            extract = "failed" if r.extract_seconds is None else (
                f"cached {r.extract_seconds:.2f} s" if r.cached else f"{r.extract_seconds:.1f} s")
            body.append([str(r.rank) if r.rank is not None else "-", r.model,
                         *(fmt_number(r.scores.get(m)) if r.scores.get(m) is not None else "-" for m in self.metrics),
                         extract, f"{r.score_seconds:.2f} s"])
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = [head, ""]
        for row in [header, *body]:
            cells = [c.rjust(w) if i != 1 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
        lines += ["", self.RANK_RULE, *self.notes]
        lines += [f"{r.model}: {e}" for r in self.rows for e in r.errors]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"RankTable(zoo={self.zoo!r}, dataset={self.dataset!r}, metrics={self.metrics}, best={self.best!r})"


def competition_ranks(values: Mapping[str, float], *, higher_is_better: bool = True) -> dict[str, int]:
    """1 + the number of models strictly better (ties share a rank: 1, 2, 2, 4)."""
    sign = 1.0 if higher_is_better else -1.0
    return {m: 1 + sum(sign * w > sign * v for w in values.values()) for m, v in values.items()}


# -- inputs -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Benchmark:
    """What a task's ``validate`` reads of a benchmark (rank has no seeds and no fine-tuning)."""

    task: str
    zoo: str
    targets: tuple[str, ...]
    options: Mapping[str, Any]
    finetune: Mapping[str, Any] = field(default_factory=dict)


def dataset_instance(dataset: Any, plugins) -> DatasetInstance:
    """A DatasetInstance; a registered dataset's name; a folder (an image-folder of that root); or
    a mapping ``{type: <registered dataset>, name: ..., <param>: ...}``."""
    registered = {e.name: e.value for e in plugins.datasets.entries()}
    if isinstance(dataset, DatasetInstance):
        return dataset
    if isinstance(dataset, Mapping):
        params = dict(dataset)
        kind = params.pop("type", None)
        if kind not in registered:
            raise ConfigError(f"dataset {dict(dataset)}: 'type' must be a registered dataset (known: {', '.join(sorted(registered))})")
        return DatasetInstance(str(params.pop("name", kind)), registered[kind], params)
    name = str(dataset)
    if name in registered:
        return DatasetInstance(name, registered[name])
    path = Path(name).expanduser()
    if path.is_dir() and FOLDER_DATASET in registered:
        return DatasetInstance(path.resolve().name, registered[FOLDER_DATASET], {"root": str(path.resolve())})
    if path.exists():
        raise ConfigError(f"dataset {name!r}: a file; give a registered dataset or a folder of images (one sub-folder per class)")
    return find_dataset(name, {}, registered)  # raises, listing the known datasets


def _zoo_source(models: Any, plugins) -> tuple[str, str | None, Zoo | ConfigZoo]:
    """(zoo name, its task if known, the registered Zoo or the parsed references)."""
    zoos = {e.name: e.value for e in plugins.zoos.entries()}
    if isinstance(models, Zoo):
        return models.name, models.task, models
    if isinstance(models, (str, Path)):
        text = str(models)
        if text in zoos:
            return text, zoos[text].task, zoos[text]
        if Path(text).expanduser().is_file():
            cz = load_zoo_file(text)
            return cz.name, cz.task, cz
        raise ConfigError(f"zoo {text!r} is neither a registered zoo (known: {', '.join(sorted(zoos))}) nor a zoo file")
    if isinstance(models, Sequence):
        refs = tuple(parse_references(list(models), "models"))
        return "models", None, ConfigZoo("models", None, refs)
    raise ConfigError(f"models: a registered zoo's name, a zoo file or a list of references, got {type(models).__name__}")


def _unusable(bundle: FeatureBundle) -> str | None:
    """Why a model's features cannot rank it (None: usable)."""
    if np.all(np.ptp(bundle.features, axis=0) == 0):
        return (f"its {bundle.dim} features are the same for every sample (constant output): "
                "not usable as features")
    return None


# -- rank ---------------------------------------------------------------------------------------------
def rank(models: Any, dataset: Any, metrics: Iterable[str] | Mapping[str, Mapping[str, Any]] | None = None, *,
         task: str | None = None, cache_dir: str | Path = DEFAULT_CACHE_DIR, allow_download: bool = False,
         device: str | None = None, options: Mapping[str, Any] | None = None, plugins: Iterable[str] = (),
         progress: bool | Callable[..., Any] = False, board: str | Path = DEFAULT_BOARD) -> RankTable:
    """Rank ``models`` on ``dataset`` by transferability metrics, without fine-tuning.

    ``models``: a registered zoo's name, a zoo file (:mod:`facebench.references`), or a list of
    references (``["timm:resnet18", {"ref": "file:m.pt", "arch": "resnet18"}]``). ``dataset``: a
    registered dataset, a folder of images (one sub-folder per class), or ``{type: ..., **params}``.
    ``metrics``: names, or name -> parameters; None: the leaders of the default board
    (:func:`default_metrics`). ``options``: the task's benchmark options (e.g. ``image_size``,
    ``train_per_class``); they are part of the features' cache key, as in a run. ``progress``:
    none (False, the default for library use), a tqdm bar on stderr (True; the CLI's default), or a
    tqdm-like factory.
    """
    plugs = get_plugins(tuple(plugins))
    inst = dataset_instance(dataset, plugs)
    zoo_name, zoo_task, source = _zoo_source(models, plugs)
    task_name = task or zoo_task or inst.task
    if zoo_task is not None and task is not None and zoo_task != task:
        raise ConfigError(f"zoo {zoo_name!r} is a {zoo_task} zoo, not {task}")
    if inst.task != task_name:
        raise ConfigError(f"dataset {inst.name!r} is a {inst.task} dataset; the zoo {zoo_name!r} is {task_name}")
    task_obj = plugs.tasks.get(task_name)
    notes: list[str] = []
    if metrics is None:
        names, note = default_metrics(plugs.metrics.names(), board)
        metric_objs = create_metrics(names, plugs.metrics)
        notes.append(note)
    else:
        metric_objs = create_metrics(metrics, plugs.metrics)
        if not metric_objs:
            raise ConfigError("no metric to score")

    from .run import pick_device

    options = dict(options or {})
    ctx = task_context(plugs, cache_dir=cache_dir, device=device or "cpu", download=allow_download,
                       quiet=not progress, options=options, instances={inst.name: inst})
    if isinstance(source, Zoo):
        specs = list(source.models)
    else:
        specs, errors = resolve_references(source.references, task_obj, ctx)
        if errors:
            raise ConfigError(f"{len(errors)} of {len(source.references)} model reference(s) do not resolve"
                              f"{' in ' + source.source if source.source else ''}:\n  " + "\n  ".join(errors.values()))
    zoo = Zoo(zoo_name, "models named by reference", task_name, tuple(specs))
    ctx.zoos = {**ctx.zoos, zoo.name: zoo}
    cache = FeatureCache(cache_dir)
    if not all(cache.has(feature_key(task_name, m, inst.content, options)) for m in specs):
        # Something to extract: check data and models first. With every model's features cached
        # (validated when they were extracted) nothing needs torch, so a re-ranking takes seconds.
        ctx.device = pick_device(device)
        task_obj.validate(_Benchmark(task_name, zoo.name, (inst.name,), options), ctx)

    bar = _bar_factory(progress)
    rows = {m.name: RankRow(m.name, {n: None for n in metric_objs}, {}) for m in specs}
    bundles = _extract_all(specs, task_obj, task_name, inst, options, ctx, cache, rows, bar)
    if not bundles:
        raise FacebenchError(f"no model of {zoo_name} gave usable features on {inst.name}:\n  "
                             + "\n  ".join(f"{r.model}: {e}" for r in rows.values() for e in r.errors))
    first = next(iter(bundles.values()))
    metric_objs = _drop_metrics_short_of_samples(metric_objs, first, inst.name, notes)
    scored = _score(metric_objs, bundles, bar)
    table = RankTable(task_name, zoo_name, inst.name, list(metric_objs), [], first.n, first.num_classes, notes)
    table.rows = _finish_rows(rows, scored, metric_objs, table.notes)
    return table


def _bar_factory(progress):
    if callable(progress):
        return progress
    import sys

    from tqdm import tqdm

    def bar(iterable=None, *, total=None, desc=""):
        return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False, disable=not progress or None)

    return bar


def _extract_all(specs: list[ModelSpec], task_obj, task_name: str, inst: DatasetInstance, options, ctx,
                 cache: FeatureCache, rows: dict[str, RankRow], bar) -> dict[str, FeatureBundle]:
    """Every model's features through the cache; a failure or unusable output goes on the model's row."""
    bundles: dict[str, FeatureBundle] = {}
    for spec in bar(specs, total=len(specs), desc=f"features on {inst.name}"):
        row = rows[spec.name]
        key = feature_key(task_name, spec, inst.content, options)
        t0 = time.perf_counter()
        try:
            bundle, row.cached = cache.load_or_extract(key, lambda spec=spec: task_obj.extract(spec, inst.name, ctx))
        except Exception as exc:  # noqa: BLE001 - one model's failure never stops the others
            row.errors.append(f"feature extraction failed ({_error_text(exc)})")
            continue
        row.extract_seconds = time.perf_counter() - t0
        row.features = str(cache.path(key).resolve())
        why = _unusable(bundle)
        if why:
            row.errors.append(why)
            continue
        bundles[spec.name] = bundle
    return bundles


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, FacebenchError) else f"{type(exc).__name__}: {exc}"


def _drop_metrics_short_of_samples(metrics: dict, bundle: FeatureBundle, dataset: str, notes: list[str]) -> dict:
    """The metrics the dataset has enough samples per class for; the others named in ``notes``."""
    counts = bundle.class_counts
    keep = {}
    for name, metric in metrics.items():
        short = np.flatnonzero(counts < metric.min_per_class)
        if short.size:
            k = short[0]
            notes.append(f"metric {name} not scored: it needs at least {metric.min_per_class} samples per class, "
                         f"but class {bundle.classes[k]} of {dataset}'s train split has {counts[k]}")
        else:
            keep[name] = metric
    if not keep:
        raise BadInputError(f"dataset {dataset}: too few samples per class for every metric asked:\n  " + "\n  ".join(notes[-len(metrics):]))
    return keep


def _score(metrics: dict, bundles: dict[str, FeatureBundle], bar):
    progress = bar(None, total=len(metrics) * len(bundles), desc="scoring")
    try:
        return score_zoo(metrics, bundles, on_progress=lambda metric, model: progress.update(1))
    finally:
        progress.close()


def _finish_rows(rows: dict[str, RankRow], scored, metrics: dict, notes: list[str]) -> list[RankRow]:
    for name in metrics:
        for model, message in scored.errors[name].items():
            if model == ZOO:
                notes.append(f"metric {name}: {message}")
            else:
                rows[model].errors.append(f"{name}: {message}")
        notes.extend(f"metric {name}: {w}" for w in scored.warnings[name])
        for model, value in scored.scores[name].items():
            rows[model].scores[name] = float(value)
        for model, secs in scored.seconds[name].items():
            rows[model].score_seconds += secs
        for model, r in competition_ranks(scored.scores[name]).items():
            rows[model].metric_ranks[name] = r
    mean_rank = {m: float(np.mean(list(r.metric_ranks.values()))) for m, r in rows.items() if r.metric_ranks}
    for model, r in competition_ranks(mean_rank, higher_is_better=False).items():
        rows[model].rank = r
    first = next(iter(metrics))

    def order(r: RankRow):
        score = r.scores.get(first)
        return (r.rank is None, r.rank or 0, -score if score is not None else np.inf, r.model)

    return sorted(rows.values(), key=order)
