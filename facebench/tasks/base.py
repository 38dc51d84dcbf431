"""The task contract: what the runner asks of a task, and what it hands to one.

A task lives in ``facebench/tasks/<task>/`` (or in any plugin package): its task object, its
zoos, its datasets and one ``plugin.py`` with the hook implementations. What no task owns is
here: the base classes of what a task plugin registers (:class:`Task`, :class:`Zoo` of
:class:`ModelSpec`, :class:`DatasetSpec`), the :class:`TaskContext` the runner hands to every
job, and the :class:`FinetuneResult` a fine-tuning returns.

The runner plans jobs per benchmark (task x zoo x targets x seeds) and calls, each as an
independent unit that an executor may run anywhere:

* ``validate(benchmark, ctx)`` before any expensive job: raise ConfigError naming the unknown or
  unavailable dataset, weights file or option;
* ``pretrain(model, ctx)``: build the zoo model (run and cache its source pre-training if any);
* ``extract(model, target, ctx) -> FeatureBundle``: features (and source-classifier
  probabilities) of the target's *training* split, in the model's own preprocessing;
* ``finetune(model, target, seed, hparams, ctx) -> FinetuneResult``: fine-tune on the target's
  training split, evaluate on its test split; ``hparams`` are the task's
  ``default_finetune`` updated by the benchmark's ``finetune``.

A task never imports the plugin manager, a metric or the CLI: the registries, the benchmark's
dataset instances, its options, the device, the download permission, the cache directory and
the per-epoch diagnostics it asked for all come in the :class:`TaskContext`.
"""
from __future__ import annotations

from functools import cached_property
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Mapping

import numpy as np

from ..bundle import FeatureBundle
from ..checks import ParamRule, check_params, refuse_unknown
from ..errors import ConfigError
from ..predictions import TestPredictions


# -- zoos ---------------------------------------------------------------------------------------
#: ``field(metadata=NOT_IN_KEYS)``: a dataclass field that :func:`facebench.runner.feature_cache.content_key`
#: leaves out of job keys (a recorded fact that changes no job's result).
NOT_IN_KEYS: Mapping[str, Any] = {"content_key": False}


@dataclass(frozen=True)
class PretrainSpec:
    """Source pre-training recipe run by facebench (zoo building)."""

    source: str  # dataset name
    loss: str = "ce"  # ce, label-smoothing, mixup, cutmix, cutout, large-margin, taylor, ...
    epochs: int = 100
    lr: float = 0.01
    batch_size: int = 64
    options: Mapping[str, Any] = field(default_factory=dict)

    def checked_options(self, model: str, known: Iterable[str]) -> dict[str, Any]:
        """``options`` as a dict; a ConfigError naming ``model`` for a key not in ``known`` (the task's)."""
        options = dict(self.options or {})
        refuse_unknown(options, known, f"model {model!r}", "pretrain option")
        return options


@dataclass(frozen=True)
class ModelSpec:
    """How to obtain one pre-trained model: an architecture, its initial weights, an optional recipe.

    What ``arch`` and ``weights`` mean is up to the zoo's task (timm names for classification,
    mmseg config dicts for segmentation, transformers configs for text).
    """

    name: str  # unique within the zoo; used as the model key everywhere
    arch: str
    weights: str | None = None  # e.g. "timm:imagenet", "torchvision:IMAGENET1K_V2", "package:...", a path, None
    pretrain: PretrainSpec | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # What the publisher of ``weights`` states about their pre-training, where the zoo declares it
    # (a model that facebench pre-trains itself gets both measured/recorded instead): top-1 accuracy
    # on the source's validation split as a fraction in [0, 1], and the training length in epochs.
    # Recorded in the features' meta for the data-free controls (:mod:`facebench.metrics.controls`);
    # facts about the weights, not inputs of any job, so they stay out of every content key.
    source_accuracy: float | None = field(default=None, metadata=NOT_IN_KEYS)
    pretrain_epochs: int | None = field(default=None, metadata=NOT_IN_KEYS)


@dataclass(frozen=True)
class Zoo:
    """A named collection of models for one task."""

    name: str
    summary: str
    task: str
    models: tuple[ModelSpec, ...]
    offline: bool = False  # all weights available without network

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


# -- datasets -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    """A dataset type: ``load(split, ctx, **params)`` returns a map-style dataset of its task.

    ``offline`` datasets come with pip/apt packages; the others download only when the run
    allows it. A config names instances of a type (``datasets: {faces: {type: image-folder,
    root: ...}}``); a registered name used directly as a target is an instance without params.
    A type that declares its ``params`` has every instance's parameters checked by name and range
    when a task validates it (:meth:`validate`), so a misspelt parameter is refused at plan time.
    """

    name: str
    summary: str
    task: str
    load: Callable[..., Any]  # load(split: str, ctx: TaskContext, **params) -> dataset
    splits: tuple[str, ...] = ("train", "test")
    num_classes: int | None = None
    offline: bool = False
    check: Callable[..., None] | None = None  # check(ctx, **params): raise ConfigError if unavailable
    # files(**params) -> the paths the instance reads (user data): their listing enters job keys
    files: Callable[..., Any] | None = None
    # The parameters the type takes, name -> rule (facebench.checks: integer, count, fraction, choice,
    # flag, text, ANY): declared, :meth:`check_params` refuses any other parameter (with a did-you-mean
    # hint) and a value outside its rule when a task validates an instance, before any data are read.
    # None: not declared (nothing is checked); {}: the type takes no parameter.
    params: Mapping[str, ParamRule] | None = field(default=None, hash=False)

    def check_params(self, params: Mapping[str, Any], where: str = "", ignore: Iterable[str] = ()) -> None:
        """Refuse an undeclared parameter or a value outside its rule (nothing when ``self.params`` is None).

        ``where`` starts the message (default: the type's name); ``ignore``: keys the task itself
        adds to every dataset's parameters (e.g. a data root), refused by no type.
        """
        if self.params is not None:
            check_params(params, self.params, where or self.name, "parameter", ignore)

    def validate(self, ctx: Any, params: Mapping[str, Any], where: str = "", ignore: Iterable[str] = ()) -> None:
        """What a task runs on an instance before any job: :meth:`check_params`, then ``check``."""
        self.check_params(params, where, ignore)
        if self.check is not None:
            self.check(ctx, **dict(params))


@dataclass(frozen=True)
class DatasetInstance:
    """A target or source as a benchmark names it: a dataset type with its parameters."""

    name: str
    spec: DatasetSpec
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def definition(self) -> dict[str, Any]:
        """What the data is (type and parameters); the store refuses a second definition of a name."""
        return {"type": self.spec.name, "params": dict(self.params)}

    def checked_params(self, extra: Mapping[str, Any] | None = None, ignore: Iterable[str] = ()) -> dict[str, Any]:
        """What the type's ``load`` and ``check`` get: the instance's params updated by ``extra`` (what
        the task adds: the benchmark's ``options.datasets.<name>``, a source's ``dataset_options``, ...),
        checked against the type's declared parameters (:meth:`DatasetSpec.check_params`: a refusal
        starts with ``dataset <name>:``; ``ignore``: the keys the task adds to every dataset's params)."""
        params = {**self.params, **(extra or {})}
        self.spec.check_params(params, f"dataset {self.name!r}", ignore)
        return params

    def check(self, ctx: Any, params: Mapping[str, Any]) -> None:
        """The type's own availability check (root, files, format, decodability) on ``params``, if it
        has one; a refusal starts with ``dataset <name>:`` unless the instance is the registered type
        used as is (whose own message names it)."""
        if self.spec.check is None:
            return
        try:
            self.spec.check(ctx, **dict(params))
        except ConfigError as exc:
            raise ConfigError(f"dataset {self.name!r}: {exc}" if self.spec.name != self.name else str(exc)) from None

    @cached_property
    def content(self) -> Any:
        """The instance in job keys: its bare name for a registered dataset used as is.

        For a type that reads user files (``DatasetSpec.files``), the fingerprint of those files
        (:func:`facebench.datafiles.files_fingerprint`) too: other files, other keys.
        """
        if self.spec.name == self.name and not self.params:
            return self.name
        content = {"name": self.name, **self.definition}
        if self.spec.files is not None:
            from ..datafiles import files_fingerprint

            content["files"] = files_fingerprint(self.spec.files(**dict(self.params)))
        return content


def find_dataset(name: str, instances: Mapping[str, DatasetInstance], datasets: Mapping[str, DatasetSpec],
                 task: str | None = None) -> DatasetInstance:
    """A named instance, else a registered dataset used as is; ConfigError if unknown or of another task."""
    if name in instances:
        inst = instances[name]
    elif name in datasets:
        inst = DatasetInstance(name, datasets[name])
    else:
        known = sorted({*instances, *(n for n, s in datasets.items() if task in (None, s.task))})
        raise ConfigError(f"unknown dataset {name!r} (known: {', '.join(known) or 'none'})")
    if task is not None and inst.task != task:
        raise ConfigError(f"dataset {name!r} is a {inst.task} dataset, not {task}")
    return inst


def require_splits(name: str, spec: DatasetSpec, needed: tuple[str, ...] = ("train", "test")) -> None:
    """ConfigError naming dataset ``name`` when its type ``spec`` lacks one of the ``needed`` splits
    (a target needs train and test)."""
    missing = [s for s in needed if s not in spec.splits]
    if missing:
        raise ConfigError(f"dataset {name!r} has no {', '.join(missing)} split (needs {' and '.join(needed)})")


def check_source_once(model: ModelSpec, checked: set[str], check: Callable[[], None]) -> None:
    """Validation of a model's source dataset: ``check()`` once per source name (``checked`` holds the
    names done), its ConfigError prefixed with ``model <name>: source dataset:``."""
    source = model.pretrain.source
    if source in checked:
        return
    try:
        check()
    except ConfigError as exc:
        raise ConfigError(f"model {model.name!r}: source dataset: {exc}") from None
    checked.add(source)


# -- what the runner hands to a task ---------------------------------------------------------------
Diagnostic = Callable[[np.ndarray, np.ndarray], float]  # (float64 features n x d, labels 0..K-1) -> value


@dataclass
class TaskContext:
    """Everything a job may use from its surroundings, declared (a task imports none of it).

    ``zoos`` and ``datasets`` are the run's registries (the plugins of the config included);
    ``instances`` the config's named dataset instances (a registered dataset name not among them
    is an instance of itself); ``diagnostics`` the per-epoch diagnostics the benchmark asks for,
    name -> function of (features, labels).
    """

    cache_dir: Path
    device: str = "cpu"
    download: bool = False
    quiet: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)  # the benchmark's task options
    zoos: Mapping[str, Zoo] = field(default_factory=dict)
    datasets: Mapping[str, DatasetSpec] = field(default_factory=dict)
    instances: Mapping[str, DatasetInstance] = field(default_factory=dict)
    diagnostics: Mapping[str, Diagnostic] = field(default_factory=dict)
    progress: Callable[..., Any] | None = None  # progress(iterable=None, total=None, desc=str) -> tqdm-like
    notes: list[str] = field(default_factory=list)  # what validation found a run would fetch: the plan prints them

    def note(self, line: str) -> None:
        """Record one line for the plan (``facebench run --plan``), e.g. "would download <id>"; once per text."""
        if line not in self.notes:
            self.notes.append(line)

    def dataset(self, name: str, task: str | None = None) -> DatasetInstance:
        """The dataset instance ``name`` (ConfigError if unknown or, with ``task``, of another task;
        asked for by a ``task``, the refusal starts with that task's name)."""
        try:
            return find_dataset(name, self.instances, self.datasets, task)
        except ConfigError as exc:
            if task is None:
                raise
            raise ConfigError(f"{task}: {exc}") from None

    def zoo(self, name: str) -> Zoo | None:
        return self.zoos.get(name)

    def diagnose(self, features: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """Every requested diagnostic of one epoch's features (labels are re-indexed to 0..K-1)."""
        if not self.diagnostics:
            return {}
        _, y = np.unique(np.asarray(labels), return_inverse=True)
        x = np.asarray(features, dtype=np.float64)
        return {name: float(fn(x, y)) for name, fn in self.diagnostics.items()}

    def bar(self, iterable, *, total=None, desc: str = ""):
        """``iterable``, with a progress bar when the caller (the CLI) gave a ``progress`` factory."""
        if self.progress is not None and not self.quiet:
            return self.progress(iterable, total=total, desc=desc)
        return iterable


def benchmark_options(ctx: Any, benchmark: Any = None) -> dict[str, Any]:
    """The task options as given: the benchmark's ``options`` updated by the run's (``ctx.options``);
    either may be missing. A task parses them into its own options type."""
    options = dict(getattr(benchmark, "options", None) or {})
    options.update(dict(getattr(ctx, "options", None) or {}))
    return options


@dataclass
class FinetuneResult:
    """Ground truth of one fine-tuning run: statistic -> value (e.g. accuracy, miou, pixel_acc)."""

    metrics: dict[str, float]
    # per-epoch diagnostics asked for: name -> [before fine-tuning, after epoch 1, ..., after epoch E]
    diagnostics: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    # predicted and true label of every test sample (the runner stores them in the cache)
    predictions: TestPredictions | None = None


class Task:
    """Base class of a task (a plugin registers an instance through ``facebench_tasks``).

    ``ground_truth``: the statistics ``finetune`` reports; ``primary`` (default: the first) ranks
    the metrics on the leaderboard, the others are shown beside it. ``default_finetune``: the
    task's fine-tuning hyper-parameters, which a benchmark's ``finetune`` updates.
    ``diagnostics``: the per-epoch diagnostics the task can record when a benchmark asks.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    ground_truth: ClassVar[tuple[str, ...]] = ()
    primary: ClassVar[str | None] = None
    default_finetune: ClassVar[Mapping[str, Any]] = {}
    diagnostics: ClassVar[tuple[str, ...]] = ()

    @property
    def primary_truth(self) -> str:
        return self.primary or self.ground_truth[0]

    def zoo_models(self, benchmark: Any, ctx: TaskContext) -> tuple[ModelSpec, ...]:
        """The models of ``benchmark``'s zoo, for :meth:`validate`: none when the zoo is unknown (the
        runner reports that itself); a ConfigError when it is another task's zoo."""
        zoo = ctx.zoo(benchmark.zoo)
        if zoo is None:
            return ()
        if zoo.task != self.name:
            raise ConfigError(f"zoo {zoo.name!r} is a {zoo.task} zoo")
        return tuple(zoo.models)

    def validate(self, benchmark: Any, ctx: TaskContext) -> None:
        """Raise ConfigError naming whatever would make a job of this benchmark fail."""

    def pretrain(self, model: ModelSpec, ctx: TaskContext) -> None:
        """Build the model (and run its source pre-training); nothing by default."""

    def extract(self, model: ModelSpec, target: str, ctx: TaskContext) -> FeatureBundle:
        raise NotImplementedError

    def resolve_model(self, ref: Any, ctx: TaskContext) -> ModelSpec:
        """The ModelSpec a zoo file's reference names (a :class:`facebench.references.ModelReference`).

        A task that loads models by reference overrides this with its own loader: offline unless
        ``ctx.download``; raise :class:`facebench.references.ReferenceError` naming what was tried.
        """
        raise ConfigError(f"the {self.name} task does not load models by reference ({ref.ref})")

    def finetune(self, model: ModelSpec, target: str, seed: int, hparams: Mapping[str, Any],
                 ctx: TaskContext) -> FinetuneResult:
        raise NotImplementedError


@dataclass(frozen=True)
class TaskJobs:
    """The functions that do a :class:`JobsTask`'s jobs (its ``jobs()`` imports them on first use)."""

    load_pretrained: Callable[..., Any]  # (model, ctx, opts): build the model; run and cache its source pre-training
    extract_features: Callable[..., FeatureBundle]  # (model, target, ctx, opts)
    finetune_model: Callable[..., FinetuneResult]  # (model, target, seed, hparams, ctx, opts)
    resolve_reference: Callable[..., ModelSpec]  # (ref, ctx): the ModelSpec a zoo file's reference names


class JobsTask(Task):
    """A task whose jobs are module functions that take its parsed options (the built-in tasks).

    A subclass names its two option types, each with ``parse(mapping)``: ``options_type`` (the
    benchmark's ``options``, updated by the run's: :func:`benchmark_options`) and ``hparams_type``
    (the fine-tuning hyper-parameters). Its ``jobs()`` returns its :class:`TaskJobs`, importing them
    there, so that registering the task stays light (no torch, mmseg or transformers). It writes
    ``validate`` itself. ``pretrain`` sets torch's CPU threads (``options.num_threads``) first.
    """

    options_type: ClassVar[Any]
    hparams_type: ClassVar[Any]

    def jobs(self) -> TaskJobs:
        raise NotImplementedError

    def options(self, ctx: Any, benchmark: Any = None) -> Any:
        """The task options of a job (``ctx.options``) or of a benchmark being validated, parsed."""
        return self.options_type.parse(benchmark_options(ctx, benchmark))

    def validated_options(self, benchmark: Any, ctx: Any) -> Any:
        """What every ``validate`` starts with: the benchmark's task options, parsed, and its
        ``finetune`` hyper-parameters checked; returns the options."""
        opts = self.options(ctx, benchmark)
        self.hparams_type.parse(getattr(benchmark, "finetune", None))
        return opts

    def pretrain(self, model: ModelSpec, ctx: TaskContext) -> None:
        """Build ``model``; run and cache its source pre-training when it has a PretrainSpec."""
        from ..torch_utils import prepare_device

        opts = self.options(ctx)
        prepare_device(opts.num_threads, ctx.device)
        self.jobs().load_pretrained(model, ctx, opts)

    def resolve_model(self, ref: Any, ctx: TaskContext) -> ModelSpec:
        return self.jobs().resolve_reference(ref, ctx)

    def extract(self, model: ModelSpec, target: str, ctx: TaskContext) -> FeatureBundle:
        return self.jobs().extract_features(model, target, ctx, self.options(ctx))

    def finetune(self, model: ModelSpec, target: str, seed: int, hparams: Mapping[str, Any],
                 ctx: TaskContext) -> FinetuneResult:
        return self.jobs().finetune_model(model, target, int(seed), self.hparams_type.parse(hparams), ctx,
                                          self.options(ctx))
