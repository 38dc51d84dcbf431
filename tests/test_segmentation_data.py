"""Segmentation without mmseg: the pixel sample, options, bad input in your own folders, the zoos
and configs against the registries, the embedded scenes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebench.config import load_config
from facebench.errors import ConfigError
from facebench.plugins import get_plugins
from facebench.tasks.segmentation.datasets import scenes
from facebench.tasks.segmentation.options import Hparams, TaskOptions
from facebench.tasks.segmentation.pixels import sample_pixels

from segmentation_helpers import (IGNORE, bench, paper_instance, seg_ctx, segnet_instance, write_ade20k,
                                  write_cityscapes, write_segnet, write_voc)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def task():
    return get_plugins().tasks.get("segmentation")


# -- the pixel sample ---------------------------------------------------------------------------
def _labels(seed=3, n=6, size=20, k=4):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, (n, size, size))
    labels[rng.random((n, size, size)) < 0.1] = IGNORE
    labels[0] = 0  # an image with a single class
    labels[:, :, 0][labels[:, :, 0] == 3] = 1  # class 3 rarer
    return labels


def test_pixels_are_class_balanced_capped_and_never_ignored():
    labels = _labels()
    per_class, per_image = 30, 7
    s = sample_pixels(labels, IGNORE, per_class, per_image, seed=0)
    assert np.array_equal(labels[s.image, s.row, s.col], s.label)  # the recorded class is the pixel's
    assert not np.any(s.label == IGNORE)
    # brute force: how many pixels of class k the per-image cap leaves available
    for k in range(4):
        available = sum(min(per_image, int(np.sum(lab == k))) for lab in labels)
        assert np.sum(s.label == k) == min(per_class, available)
        for i in range(len(labels)):
            assert np.sum((s.label == k) & (s.image == i)) <= per_image
    keys = list(zip(s.image, s.row, s.col))
    assert len(set(keys)) == len(keys) and keys == sorted(keys)


def test_pixels_depend_only_on_labels_and_seed():
    labels = _labels()
    a, b = sample_pixels(labels, IGNORE, 30, 7, seed=0), sample_pixels(labels.copy(), IGNORE, 30, 7, seed=0)
    for f in ("image", "row", "col", "label"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    c = sample_pixels(labels, IGNORE, 30, 7, seed=1)
    assert not (np.array_equal(a.row, c.row) and np.array_equal(a.col, c.col))


def test_pixel_sample_of_only_ignored_pixels_is_empty():
    assert sample_pixels(np.full((2, 4, 4), IGNORE), IGNORE, 5, 5).n == 0


# -- options ------------------------------------------------------------------------------------
def test_options_and_hparams_parse_and_reject():
    o = TaskOptions.parse({"pixels_per_class": 50, "image_size": 32})
    assert o.pixels_per_class == 50 and o.image_size == (32, 32)
    for bad in ({"pixels_per_class": 0}, {"image_size": [1, 2, 3]}, {"colour": 1}):
        with pytest.raises(ConfigError, match="segmentation"):
            TaskOptions.parse(bad)
    assert Hparams.parse(None).power == 0.9
    for bad in ({"optimizer": "adam"}, {"lr": 0}, {"epochs": 0}, {"nesterov": True}):
        with pytest.raises(ConfigError, match="segmentation"):
            Hparams.parse(bad)


# -- bad input in your own folders --------------------------------------------------------------
def _validate(task, tmp_path, root):
    inst = segnet_instance(root)
    task.validate(bench([inst.name], zoo="none"), seg_ctx(tmp_path, [inst]))


def test_a_good_segnet_folder_validates(task, tmp_path):
    _validate(task, tmp_path, write_segnet(tmp_path / "good"))


def _broken(tmp_path, name, breaks):
    root = write_segnet(tmp_path / name, n_train=3, n_test=2)
    breaks(root)
    return root


BAD_INPUT = {
    "size mismatch": (lambda r: Image.fromarray(np.zeros((16, 16), np.uint8)).save(r / "trainannot" / "001.png"),
                      r"trainannot/001.png: label map is 16x16 but its image 001.png is 32x32"),
    "label out of range": (lambda r: Image.fromarray(np.full((32, 32), 7, np.uint8)).save(r / "testannot" / "000.png"),
                           r"testannot/000.png: label value\(s\) \[7\] outside the 3 classes"),
    "image without label": (lambda r: (r / "trainannot" / "002.png").unlink(),
                            r"train/002.png: image without a label map"),
    "label without image": (lambda r: (r / "test" / "001.png").unlink(),
                            r"testannot/001.png: label map without an image"),
    "empty split": (lambda r: [p.unlink() for d in ("test", "testannot") for p in (r / d).iterdir()],
                    r"split 'test' is empty"),
    "unreadable file": (lambda r: (r / "train" / "000.png").write_bytes(b"not a png"),
                        r"train/000.png: cannot decode"),
    "missing folder": (lambda r: [p.unlink() for p in (r / "testannot").iterdir()] + [(r / "testannot").rmdir()],
                       r"label-map folder .*testannot of split 'test' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_naming_the_file(task, tmp_path, case):
    breaks, message = BAD_INPUT[case]
    root = _broken(tmp_path, case.replace(" ", "-"), breaks)
    with pytest.raises(ConfigError, match=message) as info:
        _validate(task, tmp_path, root)
    assert "\n" not in str(info.value) and "tiny-segnet" in str(info.value)


def test_bad_input_in_a_run_leaves_the_store_unchanged(tmp_path):
    """From a config, through the runner: the one-line error before any job, the store's bytes kept."""
    import hashlib

    import yaml

    from facebench.runner import RunOptions, run_benchmarks
    from facebench.store import ResultsStore

    store = ResultsStore(tmp_path / "r.sqlite")
    store.add_target("segmentation/embedded-segmentation", "earlier", {"type": "kept"})
    store.close()
    before = hashlib.sha256((tmp_path / "r.sqlite").read_bytes()).hexdigest()
    root = _broken(tmp_path, "bad", BAD_INPUT["size mismatch"][0])
    raw = {"name": "bad-seg", "metrics": ["logme"], "store": str(tmp_path / "r.sqlite"),
           "cache_dir": str(tmp_path / "cache"),
           "datasets": {"mine": {"type": "segnet-folder", "root": str(root), "classes": ["bg", "square", "disc"],
                                 "ignore_index": IGNORE}},
           "benchmarks": [{"task": "segmentation", "zoo": "embedded-segmentation", "targets": ["mine"],
                           "seeds": [0, 1]}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"trainannot/001.png: label map is 16x16") as info:
        run_benchmarks(load_config(tmp_path / "c.yaml"), RunOptions(quiet=True, device="cpu"))
    assert "\n" not in str(info.value)
    assert hashlib.sha256((tmp_path / "r.sqlite").read_bytes()).hexdigest() == before
    assert not (tmp_path / "cache" / "models").exists()  # no job ran


def test_bad_dataset_params(task, tmp_path):
    root = write_segnet(tmp_path / "ok", 2, 2)
    spec = get_plugins().datasets.get("segnet-folder")
    from facebench.tasks.base import DatasetInstance

    for params, message in (({"root": str(root), "classes": ["one"]}, "at least 2 class names"),
                            ({"root": str(root), "classes": ["a", "b"], "ignore_index": 300}, "ignore_index"),
                            ({"root": str(tmp_path / "nowhere"), "classes": ["a", "b"]}, "does not exist"),
                            ({"root": str(root), "classes": ["a", "b"], "colour": 1}, "unknown parameter")):
        inst = DatasetInstance("mine", spec, params)
        with pytest.raises(ConfigError, match=message):
            task.validate(bench(["mine"], zoo="none"), seg_ctx(tmp_path, [inst]))


def test_mmseg_layout_pairs_val_as_test(tmp_path):
    from facebench.tasks.segmentation.datasets.folders import folder_files

    root = write_segnet(tmp_path / "s", 2, 2)
    for split, mm in (("train", "train"), ("test", "val")):
        (tmp_path / "m" / "img_dir").mkdir(parents=True, exist_ok=True)
        (tmp_path / "m" / "ann_dir").mkdir(parents=True, exist_ok=True)
        (root / split).rename(tmp_path / "m" / "img_dir" / mm)
        (root / f"{split}annot").rename(tmp_path / "m" / "ann_dir" / mm)
    files = folder_files("mmseg-folder", "test", root=tmp_path / "m", classes=["a", "b", "c"], verify=True)
    assert len(files) == 2 and files.img_dir.name == "val"


# -- labels that silently vanish -----------------------------------------------------------------
def _binary_masks(root, foreground: int):
    """A SegNet folder of shadow-like masks: background 0, foreground ``foreground``."""
    for split in ("train", "test"):
        (root / split).mkdir(parents=True, exist_ok=True)
        (root / f"{split}annot").mkdir(parents=True, exist_ok=True)
        for i in range(3):
            lab = np.zeros((16, 16), np.uint8)
            lab[4:10, 2 + i : 9 + i] = foreground
            Image.fromarray(np.full((16, 16, 3), 120, np.uint8)).save(root / split / f"{i}.png")
            Image.fromarray(lab).save(root / f"{split}annot" / f"{i}.png")
    return root


def test_a_foreground_stored_as_the_ignore_index_is_refused_naming_the_class(task, tmp_path):
    """0/255 masks with ignore_index 255: every shadow pixel would be ignored; refused at validate."""
    spec = get_plugins().datasets.get("segnet-folder")
    from facebench.tasks.base import DatasetInstance

    root = _binary_masks(tmp_path / "sbu", 255)
    inst = DatasetInstance("sbu", spec, {"root": str(root), "classes": ["background", "shadow"], "ignore_index": 255})
    with pytest.raises(ConfigError, match=r"dataset 'sbu': class 'shadow' \(label value 1\) never occurs in the 3 "
                                          r"label maps of split 'train'") as info:
        task.validate(bench(["sbu"], zoo="none"), seg_ctx(tmp_path, [inst]))
    assert "\n" not in str(info.value) and "allow_absent_classes" in str(info.value)
    # on purpose: allowed
    ok = DatasetInstance("sbu", spec, {**inst.params, "allow_absent_classes": True})
    task.validate(bench(["sbu"], zoo="none"), seg_ctx(tmp_path, [ok]))
    with pytest.raises(ConfigError, match="allow_absent_classes must be true or false"):
        task.validate(bench(["sbu"], zoo="none"),
                      seg_ctx(tmp_path, [DatasetInstance("sbu", spec, {**inst.params, "allow_absent_classes": "yes"})]))
    # stored as 1: accepted
    fixed = DatasetInstance("sbu", spec, {**inst.params, "root": str(_binary_masks(tmp_path / "sbu01", 1))})
    task.validate(bench(["sbu"], zoo="none"), seg_ctx(tmp_path, [fixed]))


def test_a_class_absent_only_from_the_test_split_is_accepted(task, tmp_path):
    root = write_segnet(tmp_path / "s", 3, 2)
    for p in (root / "testannot").iterdir():  # the test split has no disc: fine (scored as absent)
        lab = np.asarray(Image.open(p)).copy()
        lab[lab == 2] = 0
        Image.fromarray(lab).save(p)
    _validate(task, tmp_path, root)


# -- the paper's datasets in their own layouts ----------------------------------------------------
def _files(kind, root, split, **params):
    inst = paper_instance(kind, root, **params)
    return inst.spec.load(split, None, name=inst.name, **inst.params)


def test_cityscapes_layout_pairs_cities_and_reads_val_as_test(task, tmp_path):
    root = write_cityscapes(tmp_path / "cs")
    train, test = _files("cityscapes", root, "train"), _files("cityscapes", root, "test")
    assert train.dataset_type == test.dataset_type == "CityscapesDataset"
    assert len(train) == 4 and {p.parent.name for p, _ in train.pairs} == {"aachen", "bochum"}
    for img, lab in train.pairs:
        assert img.name.endswith("_leftImg8bit.png") and lab.name.endswith("_gtFine_labelTrainIds.png")
        assert img.name.removesuffix("_leftImg8bit.png") == lab.name.removesuffix("_gtFine_labelTrainIds.png")
    assert test.on_disk == "val" and test.img_dir.name == "val" and len(test) == 2
    assert train.classes[0] == "road" and len(train.classes) == 19
    task.validate(bench(["my-cityscapes"], zoo="none"), seg_ctx(tmp_path, [paper_instance("cityscapes", root)]))
    assert "test split = Cityscapes val" in get_plugins().datasets.get("cityscapes").summary


def test_cityscapes_layout_reports_a_missing_label_map(task, tmp_path):
    root = write_cityscapes(tmp_path / "cs")
    (root / "gtFine/train/bochum/bochum_000000_000001_gtFine_labelTrainIds.png").unlink()
    with pytest.raises(ConfigError, match=r"bochum_000000_000001_leftImg8bit.png: image without a label map"):
        task.validate(bench(["my-cityscapes"], zoo="none"), seg_ctx(tmp_path, [paper_instance("cityscapes", root)]))


def test_ade20k_layout_reduces_zero_label(task, tmp_path):
    root = write_ade20k(tmp_path / "ade")
    classes = ["wall", "building", "sky"]
    train, test = _files("ade20k", root, "train", classes=classes), _files("ade20k", root, "test", classes=classes)
    assert train.dataset_type == "ADE20KDataset" and train.reduce_zero_label and train.img_suffix == ".jpg"
    assert train.on_disk == "training" and test.on_disk == "validation" and len(train) == 3
    task.validate(bench(["my-ade20k"], zoo="none"), seg_ctx(tmp_path, [paper_instance("ade20k", root, classes=classes)]))
    # stored 4 is class 3: outside 3 classes (1..3 stored, 0 = other)
    with pytest.raises(ConfigError, match=r"label value\(s\) \[3\] outside the 2 classes \(1..2, 0 ignored"):
        task.validate(bench(["x"], zoo="none"),
                      seg_ctx(tmp_path, [paper_instance("ade20k", root, "x", classes=["wall", "building"])]))


def test_voc_layout_reads_the_split_files_in_their_order(task, tmp_path):
    root = write_voc(tmp_path / "voc")
    classes = ["background", "aeroplane", "bicycle"]
    train, test = _files("voc2012", root, "train", classes=classes), _files("voc2012", root, "test", classes=classes)
    assert train.dataset_type == "PascalVOCDataset" and train.ann_file.name == "train.txt"
    assert [p.stem for p, _ in train.pairs] == ["2007_000033", "2007_000005", "2007_000012"]  # file order
    assert test.on_disk == "val" and [p.stem for p, _ in test.pairs] == ["2007_000042", "2007_000001"]
    task.validate(bench(["my-voc2012"], zoo="none"), seg_ctx(tmp_path, [paper_instance("voc2012", root, classes=classes)]))
    assert get_plugins().datasets.get("voc2012").num_classes == 21
    (root / "VOCdevkit/VOC2012/JPEGImages/2007_000005.jpg").unlink()
    with pytest.raises(ConfigError, match=r"2007_000005.jpg: listed in train.txt but missing"):
        task.validate(bench(["my-voc2012"], zoo="none"),
                      seg_ctx(tmp_path, [paper_instance("voc2012", root, classes=classes)]))


def test_mmseg_folder_reads_val_when_test_labels_are_placeholders(tmp_path):
    from facebench.tasks.segmentation.datasets.folders import folder_files

    root = tmp_path / "m"
    for split, fill in (("train", None), ("val", None), ("test", IGNORE)):
        (root / "img_dir" / split).mkdir(parents=True)
        (root / "ann_dir" / split).mkdir(parents=True)
        for i in range(2):
            lab = np.full((8, 8), fill, np.uint8) if fill is not None else (np.arange(64).reshape(8, 8) % 2).astype(np.uint8)
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "img_dir" / split / f"{i}.png")
            Image.fromarray(lab).save(root / "ann_dir" / split / f"{i}.png")
    files = folder_files("mmseg-folder", "test", root=root, classes=["a", "b"], verify=True)
    assert files.on_disk == "val" and files.img_dir.name == "val"
    Image.fromarray(np.ones((8, 8), np.uint8)).save(root / "ann_dir" / "test" / "1.png")  # a real label: test is test
    assert folder_files("mmseg-folder", "test", root=root, classes=["a", "b"]).on_disk == "test"


# -- ground-truth statistics on the board ---------------------------------------------------------
def test_the_board_tolerates_macc_on_some_targets_and_models_only(tmp_path):
    """An older store lacks mAcc (its fine-tuning jobs were done before): a target with mAcc for every
    model, one with mAcc for half the models, the board built from both."""
    import csv
    import json

    from facebench.leaderboard import build_leaderboards
    from facebench.store import ResultsStore

    from leaderboard_fixtures import MODELS, SEEDS, make_store

    path = make_store(tmp_path / "s.sqlite")
    bench_id = "segmentation/toy-seg"
    store = ResultsStore(path)
    store.set_truth_statistics(bench_id, ("miou", "pixel_acc", "macc"), "miou")
    rng = np.random.default_rng(0)
    for target, models in (("city", MODELS), ("voc", MODELS[:3])):
        miou = store.mean_ground_truth(bench_id, target, "miou")
        for m in models:
            for s in SEEDS:
                store.record_ground_truth(f"ft-macc:{target}:{m}:{s}", bench_id, target, m, s,
                                          {"macc": miou[m] + 0.05 + rng.normal(0, 0.01)}, 1.0)
    store.close()
    build_leaderboards(path, tmp_path / "out", figures=False, sensitivity=False, n_boot=50)
    rows = list(csv.DictReader((tmp_path / "out" / "leaderboard.csv").open()))
    macc = {(r["target"], r["metric"]) for r in rows if r["benchmark"] == bench_id and r["truth"] == "macc"}
    assert ("city", "face") in macc and ("voc", "face") in macc
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    seg = next(b for b in doc["benchmarks"] if b["benchmark"] == bench_id)
    assert seg["truths"][0] == "miou" and "macc" in seg["truths"]
    assert "macc" in (tmp_path / "out" / "leaderboard.md").read_text()


# -- zoos and configs ---------------------------------------------------------------------------
def test_embedded_zoo_differs_in_source_depth_length_and_loss():
    zoo = get_plugins().zoos.get("embedded-segmentation")
    assert zoo.offline and zoo.task == "segmentation" and len(zoo.models) >= 6
    assert all(m.pretrain is not None and m.weights is None for m in zoo.models)
    assert len({m.pretrain.source for m in zoo.models}) >= 3
    assert len({m.options["depth"] for m in zoo.models}) >= 2
    assert len({m.pretrain.loss for m in zoo.models}) >= 2
    near = [m for m in zoo.models if m.pretrain.source == "scenes-fashion-source" and m.options["depth"] == 18]
    assert len({m.pretrain.epochs for m in near}) >= 3  # the pre-training-length ladder on the nearest source
    target = load_config(ROOT / "configs/embedded/segmentation.yaml").benchmarks[0].targets
    assert not {m.pretrain.source for m in zoo.models} & set(target)


def test_paper_zoo_is_the_papers():
    zoo = get_plugins().zoos.get("pspnet-r50-8")
    assert len(zoo.models) == 8 and not zoo.offline
    assert {m.options["depth"] for m in zoo.models} == {50}
    sources = {m.name.removeprefix("pspnet-r50-") for m in zoo.models}
    assert sources == {"ade20k", "voc2012", "voc-aug", "sbu-shadow", "coco", "lip", "kitti", "camvid"}
    public = {m.name for m in zoo.models if m.pretrain is None}
    assert public == {"pspnet-r50-ade20k", "pspnet-r50-voc-aug", "pspnet-r50-coco"}
    for m in zoo.models:
        if m.pretrain:
            assert (m.pretrain.lr, m.pretrain.epochs, m.pretrain.batch_size) == (1e-4, 60, 8)
    cfg = load_config(ROOT / "configs/paper/segmentation.yaml")
    b = cfg.benchmarks[0]
    assert b.targets == ("cityscapes",) or list(b.targets) == ["cityscapes"]
    assert b.finetune["lr"] == 1e-4 and b.finetune["epochs"] == 60 and b.finetune["batch_size"] == 8
    datasets = get_plugins().datasets
    assert all(m.pretrain is None or m.pretrain.source in datasets for m in zoo.models)


def test_paper_benchmark_names_what_is_missing(task, tmp_path, monkeypatch):
    monkeypatch.delenv("FACEBENCH_DATA", raising=False)
    b = load_config(ROOT / "configs/paper/segmentation.yaml").benchmarks[0]
    with pytest.raises(ConfigError, match="'cityscapes': no local copy"):
        task.validate(b, seg_ctx(tmp_path, options=b.options))


def test_embedded_benchmark_validates_offline(task, tmp_path):
    cfg = load_config(ROOT / "configs/embedded/segmentation.yaml")
    b = cfg.benchmarks[0]
    assert len(b.seeds) >= 2 and not cfg.download
    task.validate(b, seg_ctx(tmp_path, options=b.options))


# -- the embedded scenes ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(scenes.SCENES))
def test_scenes_are_deterministic_and_use_their_classes(kind):
    gen = scenes.SCENES[kind][1]
    a_img, a_lab = gen.draw(6, "train", np.random.default_rng(5))
    b_img, b_lab = gen.draw(6, "train", np.random.default_rng(5))
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    assert a_img.shape == (6, 64, 64, 3) and a_lab.shape == (6, 64, 64)
    assert a_lab.max() < len(gen.classes) and len(np.unique(a_lab)) >= 2


def test_pasted_objects_are_labelled_exactly_where_pasted():
    """Paste one known object on a flat canvas: the label is the class exactly where pixels changed."""
    canvas = np.zeros((64, 64, 3))
    label = np.zeros((64, 64), np.uint8)
    obj = np.zeros((28, 28), np.uint8)
    obj[5:20, 8:12] = 200
    scenes._paste(canvas, label, np.random.default_rng(0), obj, 3, 28, rectangle=False)
    changed = canvas.max(axis=2) > 0
    assert np.array_equal(changed, label == 3)


def test_loading_the_plugins_imports_neither_mmseg_nor_torch():
    import subprocess
    import sys

    code = ("import sys; from facebench.plugins import get_plugins; p = get_plugins(); "
            "p.tasks.get('segmentation'); p.zoos.get('embedded-segmentation'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mmseg', 'mmcv', 'mmengine', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout
