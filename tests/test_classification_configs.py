"""Every config under configs/ parses and names registered tasks, zoos and datasets; the
classification zoos are what the paper (§4.1-4.3) and the embedded benchmark promise."""
from __future__ import annotations

from pathlib import Path

import pytest

from facebench.config import load_config
from facebench.errors import ConfigError
from facebench.plugins import get_plugins
from facebench.runner.context import task_context
from facebench.tasks.base import TaskContext
from facebench.tasks.classification.losses import LOSSES
from facebench.tasks.classification.models import native_preprocessing, preprocessing_for

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


def test_there_are_configs():
    names = {p.relative_to(p.parents[1]).as_posix() for p in CONFIGS}
    assert {"embedded/classification.yaml", "paper/imagenet-15.yaml", "paper/multisource-30.yaml",
            "paper/homogeneous-21.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.relative_to(p.parents[1]).as_posix())
def test_config_names_exist_in_the_registries(path):
    cfg = load_config(path)
    plugins = get_plugins(cfg.plugins)
    for b in cfg.benchmarks:
        assert b.task in plugins.tasks, f"{path}: unknown task {b.task}"
        assert b.zoo in plugins.zoos, f"{path}: unknown zoo {b.zoo}"
        zoo = plugins.zoos.get(b.zoo)
        assert zoo.task == b.task
        def dataset_type(name):  # a registered dataset, or a dataset instance the config defines
            return cfg.datasets[name].type if name in cfg.datasets else name

        for t in b.targets:
            assert dataset_type(t) in plugins.datasets, f"{path}: unknown dataset {t}"
            assert plugins.datasets.get(dataset_type(t)).task == b.task
        for m in zoo.models:
            if m.pretrain is not None:
                assert dataset_type(m.pretrain.source) in plugins.datasets, f"{zoo.name}/{m.name}: unknown source"
                if b.task == "classification":
                    assert m.pretrain.source not in b.targets, f"{zoo.name}/{m.name}: source is also a target"
                    assert m.pretrain.loss in LOSSES


def _zoo(name):
    return get_plugins().zoos.get(name)


def test_embedded_zoo_is_offline_and_large_enough():
    zoo = _zoo("embedded-classification")
    assert zoo.offline and zoo.task == "classification" and len(zoo.models) >= 10
    assert len({m.name for m in zoo.models}) == len(zoo.models)
    for m in zoo.models:
        assert m.weights is None or m.weights.startswith("package:"), m.name  # nothing to download
        assert preprocessing_for(m).size == 32
    losses = {m.pretrain.loss for m in zoo.models if m.pretrain}
    assert losses <= set(LOSSES) and len(losses) >= 3
    assert {m.pretrain.source for m in zoo.models if m.pretrain} == {"fashion-mnist", "printed-digits"}
    # every member is pre-trained; the baseline from random initialisation is a zoo of its own
    assert all(m.weights is not None or m.pretrain is not None for m in zoo.models)
    scratch = _zoo("embedded-classification-scratch")
    assert [(m.weights, m.pretrain) for m in scratch.models] == [(None, None)]
    lite = _zoo("efficientnet-lite-imagenet")
    assert [m.arch for m in lite.models] == ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"]


def test_embedded_benchmark_validates_offline(tmp_path):
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "embedded" / "classification.yaml")
    bench = cfg.benchmarks[0]
    assert len(bench.targets) >= 3 and len(bench.seeds) >= 2 and not cfg.download
    task = get_plugins().tasks.get("classification")
    task.validate(bench, task_context(get_plugins(), cache_dir=tmp_path, options=bench.options))


def test_paper_zoos_match_the_paper():
    imagenet = _zoo("imagenet-15")
    assert len(imagenet.models) == 15 and not imagenet.offline
    assert {m.arch for m in imagenet.models} >= {"resnet152", "densenet201", "mobilenetv1_100", "efficientnet_b3", "vgg19"}
    multi = _zoo("multisource-30")
    assert len(multi.models) == 30
    assert len({m.arch for m in multi.models}) == 3
    sources = {m.pretrain.source if m.pretrain else "imagenet" for m in multi.models}
    assert len(sources) == 10 and "imagenet" in sources
    assert all(m.pretrain.epochs == 100 and m.pretrain.lr == 0.01 and m.pretrain.batch_size == 64
               for m in multi.models if m.pretrain)
    homo = _zoo("homogeneous-21")
    assert len(homo.models) == 21 and {m.arch for m in homo.models} == {"resnet50"}
    assert {m.pretrain.loss for m in homo.models} == set(LOSSES)
    assert {m.pretrain.source for m in homo.models} == {"cifar-10", "oxford-pets", "cub-200-2011"}


def test_paper_models_preprocessing_without_weights():
    for zoo in ("imagenet-15", "multisource-30"):
        for m in _zoo(zoo).models:
            prep = native_preprocessing(m)
            assert prep.size >= 224 and prep.resize >= prep.size, m.name
    assert native_preprocessing(_zoo("imagenet-15").model("efficientnet-b3")).size == 300


def test_paper_weights_are_not_downloaded_without_permission(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    from facebench.tasks.classification.models import check_weights

    ctx = TaskContext(cache_dir=tmp_path)
    for m in _zoo("imagenet-15").models:
        with pytest.raises(ConfigError, match="--allow-download"):
            check_weights(m, ctx)


@pytest.mark.slow
def test_paper_architectures_build_with_random_weights():
    """Every paper architecture builds (pretrained=False) and gives penultimate features."""
    import torch

    from facebench.tasks.classification.models import build_net

    seen = set()
    for zoo in ("imagenet-15", "multisource-30", "homogeneous-21"):
        for m in _zoo(zoo).models:
            if m.arch in seen:
                continue
            seen.add(m.arch)
            net = build_net(m, load_weights=False).eval()
            with torch.no_grad():
                feats = net.features(torch.zeros(1, 3, 64, 64))
                logits = net.head(feats)
            assert feats.shape == (1, net.num_features) and logits.shape == (1, 1000), m.name
