"""Score jobs: metrics on the cached features of one benchmark target, recorded in the store."""
from __future__ import annotations

from ..bundle import FeatureBundle
from ..errors import FacebenchError
from ..isolation import DEFAULT_LIMITS, Limits, run_limited
from ..score.zoo import ZooScores, score_zoo
from ..store import ResultsStore
from .feature_cache import FeatureCache, content_key


_WORKER_BUNDLES: dict = {}  # in a worker process: the scorer token and bundles of the last target scored


class TargetScorer:
    """Scores metrics on the cached features of one benchmark target and records them.

    ``files``: model -> (feature file, content key). Each bundle is read once, on first use,
    and verified against its checksum. The job key covers the metric's name and parameters and
    the features' content keys (and which benchmark target they are stored under), so a score
    is recomputed exactly when its inputs change, never because the ground truth did. Used by
    the run, ``--only-score`` and ``facebench score --store``.
    """

    def __init__(self, benchmark: str, target: str, files: dict[str, tuple[str, str]],
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.benchmark, self.target, self.files, self.limits = benchmark, target, dict(files), limits
        self._loaded: dict[str, FeatureBundle] = {}

    # Sent to a worker process (one scoring job at a time), a scorer travels without its bundles;
    # every copy of the same scorer that arrives in one process shares one set of bundles, so a
    # worker reads a target's features once and the metrics' per-bundle shared work (FaCe's C,
    # the class distances) is reused across its jobs as it is in one process. A process keeps
    # the bundles of the last target it scored only.
    def __getstate__(self) -> dict:
        return {**self.__dict__, "_loaded": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        token = (self.benchmark, self.target, tuple(sorted(self.files.items())))
        if _WORKER_BUNDLES.get("token") != token:
            _WORKER_BUNDLES.clear()
            _WORKER_BUNDLES.update(token=token, bundles={})
        self._loaded = _WORKER_BUNDLES["bundles"]

    def key(self, name: str, metric) -> str:
        contents = sorted((model, key) for model, (_path, key) in self.files.items())
        return content_key("score", self.benchmark, self.target, name, metric.params(), contents)

    def _bundle(self, model: str) -> FeatureBundle:
        if model not in self._loaded:
            path, key = self.files[model]
            self._loaded[model] = FeatureCache.of_file(path).load(key, strict=True)
        return self._loaded[model]

    def score(self, name: str, metric, device: str = "cpu") -> ZooScores:
        """Score ``metric``; on a CUDA ``device`` its large float64 products run there (:mod:`..metrics._backend`)."""
        from ..metrics._backend import torch_backend

        if not self.files:
            raise FacebenchError("no cached features for this target: run the benchmark without --only-score first")
        bundles = {model: self._bundle(model) for model in self.files}  # read and verified here, shared by fork
        what = f"metric {name!r} (plugin module {type(metric).__module__}) on {self.benchmark} {self.target}"
        with torch_backend(device if str(device).startswith("cuda") else None):
            return run_limited(lambda: score_zoo({name: metric}, bundles), self.limits, what)

    def record(self, store: ResultsStore, key: str, name: str, metric, result: ZooScores) -> None:
        """Write the metric's per-model values and zoo scores in one transaction."""
        store.record_scores(
            key, self.benchmark, self.target, name, metric.params(), result.raw[name], result.seconds[name],
            result.errors[name], result.scores[name], result.warnings[name],
        )
