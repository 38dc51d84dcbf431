"""Classification datasets: the offline ones, image-folder, and the download-gated paper ones."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebench.tasks.classification.datasets import image_folder, offline, torchvision_sets
from facebench.subsets import per_class_subset
from facebench.subsets import stratified_split
from facebench.tasks.classification.datasets.common import labels_of
from facebench.errors import BadInputError, ConfigError
from facebench.plugins import get_plugins
from facebench.tasks.base import TaskContext

PAPER_NAMES = {
    "cifar-10", "cifar-100", "oxford-pets", "cub-200-2011", "gtsrb", "dtd", "stl-10", "flowers-102",
    "stanford-cars", "country-211", "food-101", "svhn", "fgvc-aircraft",
}
OFFLINE_NAMES = {"fashion-mnist", "mnist-5k", "digits", "lfw-subset", "textures", "image-folder", "printed-digits"}


def _ctx(tmp_path, download=False):
    return TaskContext(cache_dir=tmp_path / "cache", download=download)


def test_registry_holds_offline_and_paper_datasets():
    reg = get_plugins().datasets
    assert OFFLINE_NAMES | PAPER_NAMES <= set(reg.names())
    for name in OFFLINE_NAMES | PAPER_NAMES:
        spec = reg.get(name)
        assert spec.task == "classification" and spec.summary and set(spec.splits) >= {"train", "test"}
        assert spec.offline == (name in OFFLINE_NAMES)


def test_stratified_split_is_deterministic_and_disjoint():
    labels = np.repeat(np.arange(3), [10, 20, 5])
    tr, te = stratified_split(labels, 0.2, seed=0)
    tr2, te2 = stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    assert not set(tr) & set(te) and len(tr) + len(te) == labels.size
    assert np.bincount(labels[te]).tolist() == [2, 4, 1]
    keep = per_class_subset(labels, 3, seed=0)
    assert np.bincount(labels[keep]).tolist() == [3, 3, 3]
    assert np.array_equal(keep, per_class_subset(labels, 3, seed=0))
    assert per_class_subset(labels, None).size == labels.size


@pytest.mark.parametrize(
    "name,n_train,n_test,k,size",
    [
        ("mnist-5k", 4000, 1000, 10, (28, 28)),
        ("digits", 1258, 539, 10, (8, 8)),
        ("lfw-subset", 100, 100, 2, (25, 25)),
        ("textures", 315, 315, 3, (64, 64)),
        ("fashion-mnist", 60000, 10000, 10, (28, 28)),
    ],
)
def test_offline_datasets(name, n_train, n_test, k, size, tmp_path):
    spec = get_plugins().datasets.get(name)
    spec.check(_ctx(tmp_path))
    train, test = spec.load("train", _ctx(tmp_path)), spec.load("test", _ctx(tmp_path))
    assert (len(train), len(test)) == (n_train, n_test)
    assert len(train.classes) == k and sorted(set(train.targets)) == list(range(k))
    img, label = train[0]
    assert isinstance(img, Image.Image) and img.size == size and 0 <= label < k
    assert labels_of(train) == train.targets


def test_offline_splits_do_not_overlap():
    tr, te = offline.load_mnist5k("train"), offline.load_mnist5k("test")
    a = {bytes(x) for x in tr.images}
    assert not any(bytes(x) in a for x in te.images[:200])
    with pytest.raises(ConfigError, match="no split 'val'"):
        offline.load_textures("val")


def test_fashion_mnist_missing_root_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="dataset-fashion-mnist"):
        offline.check_fashion_mnist(None, root=str(tmp_path))


# -- image-folder --------------------------------------------------------------------------------
def _write_folder(root: Path, classes=("cat", "dog"), per_class=5, size=(12, 10)) -> None:
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f"{i}.png")


def test_image_folder_ratio_split(tmp_path):
    _write_folder(tmp_path / "imgs")
    opts = {"root": str(tmp_path / "imgs"), "test_fraction": 0.4}
    image_folder.check_image_folder(None, **opts)
    train = image_folder.load_image_folder("train", None, **opts)
    test = image_folder.load_image_folder("test", None, **opts)
    assert train.classes == ["cat", "dog"] and (len(train), len(test)) == (6, 4)
    assert not {p for p, _ in train.samples} & {p for p, _ in test.samples}
    img, label = test[0]
    assert img.mode == "RGB" and img.size == (12, 10) and label in (0, 1)
    again = image_folder.load_image_folder("train", None, **opts)
    assert again.samples == train.samples  # deterministic


def test_image_folder_explicit_splits(tmp_path):
    _write_folder(tmp_path / "r" / "train", classes=("a", "b", "c"), per_class=2)
    _write_folder(tmp_path / "r" / "test", classes=("a", "c"), per_class=1)
    test = image_folder.load_image_folder("test", None, root=str(tmp_path / "r"))
    assert test.classes == ["a", "b", "c"] and sorted(test.targets) == [0, 2]
    assert len(image_folder.load_image_folder("train", None, root=str(tmp_path / "r"))) == 6


def test_image_folder_errors(tmp_path):
    with pytest.raises(ConfigError, match="needs a root folder"):
        image_folder.check_image_folder(None)
    with pytest.raises(ConfigError, match="does not exist"):
        image_folder.check_image_folder(None, root=str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no class folders"):
        image_folder.check_image_folder(None, root=str(tmp_path / "empty"))
    (tmp_path / "noimg" / "cat").mkdir(parents=True)
    (tmp_path / "noimg" / "cat" / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError, match="no images"):
        image_folder.check_image_folder(None, root=str(tmp_path / "noimg"))
    _write_folder(tmp_path / "partial", classes=("cat",))
    (tmp_path / "partial" / "dog").mkdir()
    with pytest.raises(ConfigError, match="dog has no images"):
        image_folder.check_image_folder(None, root=str(tmp_path / "partial"))
    _write_folder(tmp_path / "one", classes=("cat",))  # fine-tuning and every metric need 2 classes
    with pytest.raises(ConfigError, match="one class folder .cat.*at least 2 classes"):
        image_folder.check_image_folder(None, root=str(tmp_path / "one"))


def test_image_folder_undecodable_image_is_named(tmp_path):
    _write_folder(tmp_path / "bad")
    broken = tmp_path / "bad" / "dog" / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    with pytest.raises(ConfigError, match="broken.jpg"):
        image_folder.check_image_folder(None, root=str(tmp_path / "bad"))
    image_folder.check_image_folder(None, root=str(tmp_path / "bad"), verify=False)
    ds = image_folder.load_image_folder("train", None, root=str(tmp_path / "bad"), test_fraction=0.01)
    idx = [i for i, (p, _) in enumerate(ds.samples) if p.name == "broken.jpg"]
    assert idx, "the broken file should be in the train split"
    with pytest.raises(BadInputError, match="broken.jpg"):
        ds[idx[0]]


# -- paper datasets (never downloaded here) -------------------------------------------------------
def test_paper_dataset_missing_says_how_to_download(tmp_path):
    spec = get_plugins().datasets.get("cifar-10")
    with pytest.raises(ConfigError) as exc:
        spec.check(_ctx(tmp_path), data_root=str(tmp_path / "data"))
    msg = str(exc.value)
    assert "cifar-10" in msg and str(tmp_path / "data" / "cifar-10") in msg and "--allow-download" in msg
    with pytest.raises(ConfigError, match="allow downloading"):
        spec.load("train", _ctx(tmp_path), data_root=str(tmp_path / "data"))
    assert not (tmp_path / "data" / "cifar-10").exists()  # nothing created, nothing fetched


def test_paper_dataset_check_passes_when_download_is_allowed(tmp_path):
    get_plugins().datasets.get("dtd").check(_ctx(tmp_path, download=True), data_root=str(tmp_path))
    with pytest.raises(ConfigError, match="cannot be downloaded automatically"):
        get_plugins().datasets.get("stanford-cars").check(_ctx(tmp_path, download=True), data_root=str(tmp_path))


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEBENCH_DATA", str(tmp_path / "env"))
    with pytest.raises(ConfigError, match=str(tmp_path / "env" / "svhn")):
        get_plugins().datasets.get("svhn").check(_ctx(tmp_path))


def test_cub_reader_on_a_tiny_copy(tmp_path):
    base = tmp_path / "cub" / "CUB_200_2011"
    for i, (cls, split) in enumerate([("001.Albatross", 1), ("001.Albatross", 0), ("002.Auklet", 1)], start=1):
        (base / "images" / cls).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (i * 40, 0, 0)).save(base / "images" / cls / f"{i}.jpg")
    (base / "images.txt").write_text("1 001.Albatross/1.jpg\n2 001.Albatross/2.jpg\n3 002.Auklet/3.jpg\n")
    (base / "image_class_labels.txt").write_text("1 1\n2 1\n3 2\n")
    (base / "train_test_split.txt").write_text("1 1\n2 0\n3 1\n")
    (base / "classes.txt").write_text("1 001.Albatross\n2 002.Auklet\n")
    spec = get_plugins().datasets.get("cub-200-2011")
    spec.check(_ctx(tmp_path), root=str(tmp_path / "cub"))
    train = spec.load("train", _ctx(tmp_path), root=str(tmp_path / "cub"))
    test = spec.load("test", _ctx(tmp_path), root=str(tmp_path / "cub"))
    assert train.targets == [0, 1] and test.targets == [0] and train.classes == ["001.Albatross", "002.Auklet"]
    img, label = test[0]
    assert img.size == (8, 6) and label == 0


def test_paper_sets_cover_the_paper():
    assert {ds.name for ds in torchvision_sets.PAPER_SETS} == PAPER_NAMES
