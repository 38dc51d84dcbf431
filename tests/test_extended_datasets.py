"""Offline targets of the extended embedded benchmark: ``elpv``, ``printed-letters``, ``photo-patches``.

Expected sizes and labels are computed here from the sources themselves (``labels.csv`` read with
numpy, the photos' shapes, the alphabet, the fonts' character maps), never copied from a loader's
output. The one recorded value is the hash that proves ``printed-digits`` unchanged by the shared
glyph renderer: computed with the code before the refactor.
"""
from __future__ import annotations

import hashlib
import string
import sys

import numpy as np
import pytest
from PIL import Image

from facebench.errors import ConfigError
from facebench.plugins import get_plugins
from facebench.tasks.classification.datasets import offline
from facebench.tasks.classification.datasets import printed_digits as pd
from facebench.tasks.classification.datasets import printed_letters as pl
from facebench import offline_data

NEW = ("elpv", "printed-letters", "photo-patches")


def _hash(images: np.ndarray, labels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes() + np.ascontiguousarray(labels).tobytes()).hexdigest()


def _bytes(images) -> set[bytes]:
    return {bytes(np.ascontiguousarray(x)) for x in images}


@pytest.mark.parametrize("name", NEW)
def test_registered_offline_with_declared_params(name):
    spec = get_plugins().datasets.get(name)
    assert spec.task == "classification" and spec.offline and spec.summary and spec.params
    assert set(spec.splits) == {"train", "test"}
    spec.check(None)  # installed: no error


# -- printed-digits is unchanged by the shared renderer ------------------------------------------------
# sha256 of images + labels of printed_digit_arrays, computed by the code before render_glyph /
# glyph_arrays existed (render_digit drew on a fixed 96 px canvas), on Pillow 13.0.0 with FreeType
# 2.14.3. Rasterisation may differ on another build, where the recorded hashes cannot apply.
DIGITS_BEFORE = {
    ("train", 8, 0): "4a1604150052a267921d6f9552d0fd0f0e8b333f077f4dda8f468b5ad3248a2e",
    ("test", 8, 0): "755494a2a82baf01df464583eb16faebc88396c16969f833dfc5cffe342dd25f",
    ("train", 3, 7): "7a4c4ea380a8b1560cbe2b822f09886a2ebd499ded25a386a4a7446a1493758d",
}
DIGITS_BUILD = ("13.0.0", "2.14.3")


@pytest.mark.parametrize("args", list(DIGITS_BEFORE))
def test_printed_digits_are_bit_identical_to_before_the_refactor(args):
    import PIL
    import PIL.features

    build = (PIL.__version__, PIL.features.version("freetype2"))
    if build != DIGITS_BUILD:
        pytest.skip(f"hashes recorded with Pillow/FreeType {DIGITS_BUILD}, this is {build}")
    assert _hash(*pd.printed_digit_arrays(*args)) == DIGITS_BEFORE[args]


def test_render_digit_is_render_glyph_of_the_digit_string():
    font = pd.font_dir() / pd.FONT_FILES[0]
    for digit in (0, 7):
        a = pd.render_digit(font, digit, np.random.default_rng([3, digit]))
        b = pd.render_glyph(font, str(digit), np.random.default_rng([3, digit]))
        np.testing.assert_array_equal(a, b)


# -- printed-letters ----------------------------------------------------------------------------------
def test_every_font_draws_every_letter():
    from fontTools.ttLib import TTFont

    for name in pd.FONT_FILES:
        cmap = TTFont(str(pd.font_dir() / name)).getBestCmap()
        assert not [c for c in string.ascii_letters if ord(c) not in cmap], name


def test_the_canvas_keeps_the_widest_letter_whole_at_the_extreme_style():
    # The largest size (56), stroke (3), shear (0.3) and rotation (12 degrees) that render_glyph draws.
    from PIL import ImageDraw, ImageFont

    c = pl.CANVAS // 2
    for name in pd.FONT_FILES:
        font = ImageFont.truetype(str(pd.font_dir() / name), size=56)
        for shear in (-0.3, 0.3):
            for angle in (-12, 12):
                canvas = Image.new("L", (pl.CANVAS, pl.CANVAS), 0)
                ImageDraw.Draw(canvas).text((c, c), "W", fill=255, font=font, anchor="mm", stroke_width=3, stroke_fill=255)
                canvas = canvas.transform(canvas.size, Image.Transform.AFFINE, (1, shear, -shear * c, 0, 1, 0),
                                          resample=Image.Resampling.BILINEAR)
                g = np.asarray(canvas.rotate(angle, resample=Image.Resampling.BILINEAR))
                border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
                assert not border.any(), (name, shear, angle)


@pytest.mark.parametrize("case, alphabet", [("upper", string.ascii_uppercase), ("lower", string.ascii_lowercase)])
def test_letters_shapes_classes_and_counts(case, alphabet):
    for split in ("train", "test"):
        ds = pl.load_printed_letters(split, case=case, per_class=4)
        assert ds.classes == list(alphabet) and len(ds) == 26 * 4
        assert ds.images.shape == (26 * 4, 28, 28) and ds.images.dtype == np.uint8
        assert np.bincount(ds.targets).tolist() == [4] * 26
        img, label = ds[0]
        assert img.mode == "L" and img.size == (28, 28) and label == 0
        assert (ds.images.reshape(len(ds), -1).max(1) > 150).all()  # every image holds a visible glyph
    default = pl.load_printed_letters("test", case=case)
    assert len(default) == 26 * pl.DEFAULT_PER_CLASS["test"]


def test_letter_splits_use_disjoint_fonts(monkeypatch):
    used: dict[str, set[str]] = {"train": set(), "test": set()}

    def spy(split):
        def render(font_path, text, rng, canvas_size=96):
            used[split].add(font_path.name)
            return np.zeros((28, 28), np.uint8)
        return render

    for split in ("train", "test"):
        monkeypatch.setattr(pd, "render_glyph", spy(split))
        pd.glyph_arrays.cache_clear()
        pl.printed_letter_arrays(split, 25, 12345, "upper")  # 25 per class > 15 train fonts: every font cycles in
    pd.glyph_arrays.cache_clear()
    assert used["train"] and used["test"] and not used["train"] & used["test"]
    assert used["train"] | used["test"] == set(pd.FONT_FILES)
    assert len(used["test"]) == len(pd.FONT_FILES[::4])


def test_letter_test_images_never_repeat_train_images():
    train, _ = pl.printed_letter_arrays("train", 10, 0, "upper")
    test, _ = pl.printed_letter_arrays("test", 10, 0, "upper")
    assert not _bytes(train) & _bytes(test)


def test_letters_are_deterministic_and_independent_of_how_many_are_asked_for():
    few, _ = pl.printed_letter_arrays("train", 2, 0, "upper")
    pd.glyph_arrays.cache_clear()
    more, labels = pl.printed_letter_arrays("train", 3, 0, "upper")
    for k in range(26):
        np.testing.assert_array_equal(few[2 * k : 2 * k + 2], more[3 * k : 3 * k + 2])
    assert not np.array_equal(few, pl.printed_letter_arrays("train", 2, 1, "upper")[0])  # the seed matters
    assert not _bytes(few) & _bytes(pd.printed_digit_arrays("train", 2, 0)[0])


def test_letter_labels_name_the_glyphs_in_unseen_fonts():
    # Nearest centroid fitted on the train fonts reads letters of fonts it never saw far above chance
    # (1/26): it fails if glyphs and labels were paired wrongly.
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255.0
    for case in ("upper", "lower"):
        x_tr, y_tr = pl.printed_letter_arrays("train", 20, 0, case)
        x_te, y_te = pl.printed_letter_arrays("test", 10, 0, case)
        centroids = np.stack([flat(x_tr)[y_tr == k].mean(0) for k in range(26)])
        d = ((flat(x_te)[:, None, :] - centroids[None]) ** 2).sum(-1)
        assert (d.argmin(1) == y_te).mean() > 0.25, case


@pytest.mark.parametrize("kwargs, match", [
    ({"case": "Upper"}, "case must be one of upper, lower"),
    ({"case": "title"}, "case"),
    ({"per_class": 0}, "per_class"),
    ({"seed": 1.5}, "seed"),
    ({"font": "x"}, "unknown option"),
])
def test_letters_refuse_bad_params(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        pl.load_printed_letters("train", **kwargs)
    with pytest.raises(ConfigError, match=match.replace("option", "parameter")):
        get_plugins().datasets.get("printed-letters").check_params(kwargs)
    with pytest.raises(ConfigError, match="no split 'val'"):
        pl.load_printed_letters("val")


def test_letters_missing_font_names_the_dataset(monkeypatch, tmp_path):
    monkeypatch.setattr(pd, "font_dir", lambda: tmp_path)
    with pytest.raises(ConfigError, match="'printed-letters'.*lacks DejaVuSans.ttf"):
        pl.check_printed_letters()


# -- elpv ---------------------------------------------------------------------------------------------
def _labels_csv():
    """labels.csv read as the package's own loader reads it (numpy.genfromtxt)."""
    import elpv_dataset
    from pathlib import Path

    root = Path(elpv_dataset.__file__).parent / "data"
    t = np.genfromtxt(root / "labels.csv", dtype=["|S19", "<f8", "|S4"], names=["path", "probability", "type"])
    return root, np.char.decode(t["path"]), t["probability"], np.char.decode(t["type"])


def _expected_elpv(label):
    _, _, prob, kind = _labels_csv()
    if label == "defect":
        keep = (prob < 0.01) | (prob > 0.6)
        return keep, (prob > 0.6).astype(int)
    if label == "defect-level":
        return np.ones(prob.size, bool), np.rint(prob * 3).astype(int)
    return np.ones(prob.size, bool), (kind == "poly").astype(int)


def test_elpv_table_matches_the_packaged_csv():
    _, paths, prob, kind = _labels_csv()
    assert len(paths) == 2624  # the dataset's documented size
    assert set(np.round(prob * 3, 6)) == {0, 1, 2, 3} and set(kind) == {"mono", "poly"}
    got_paths, levels, types = offline_data.elpv_table()
    assert list(got_paths) == list(paths)
    np.testing.assert_array_equal(levels, np.rint(prob * 3))
    np.testing.assert_array_equal(types, kind == "poly")


@pytest.mark.parametrize("label, classes", [("defect", ["functional", "defective"]),
                                            ("defect-level", ["p=0", "p=1/3", "p=2/3", "p=1"]),
                                            ("cell-type", ["mono", "poly"])])
def test_elpv_splits_counts_and_shapes(label, classes):
    keep, y = _expected_elpv(label)
    per_class = np.bincount(y[keep], minlength=len(classes))
    train, test = offline.load_elpv("train", label=label), offline.load_elpv("test", label=label)
    assert train.classes == test.classes == classes
    assert len(train) + len(test) == keep.sum()
    np.testing.assert_array_equal(np.bincount(train.targets, minlength=len(classes))
                                  + np.bincount(test.targets, minlength=len(classes)), per_class)
    for k, n in enumerate(per_class):  # stratified: a quarter of every class in test
        assert abs(np.bincount(test.targets, minlength=len(classes))[k] - 0.25 * n) <= 1
    for ds in (train, test):
        assert ds.images.shape[1:] == (64, 64) and ds.images.dtype == np.uint8
        img, lab = ds[0]
        assert img.mode == "L" and img.size == (64, 64) and 0 <= lab < len(classes)
    assert not _bytes(train.images) & _bytes(test.images)  # disjoint (every cell image is distinct)
    again = offline.load_elpv("test", label=label)
    np.testing.assert_array_equal(again.images, test.images)
    assert again.targets == test.targets


def test_elpv_images_are_paired_with_their_own_labels():
    # Each loaded image is found among the files (resized independently here) and carries that file's label.
    root, paths, prob, kind = _labels_csv()
    rows = np.arange(0, len(paths), 97)
    resized = {}
    for i in rows:
        with Image.open(root / paths[i]) as img:
            assert img.size == (300, 300)
            resized[bytes(np.asarray(img.convert("L").resize((64, 64), Image.Resampling.LANCZOS)))] = i
    found = 0
    for label in ("defect-level", "cell-type"):
        _, y = _expected_elpv(label)
        for split in ("train", "test"):
            ds = offline.load_elpv(split, label=label)
            for x, t in zip(ds.images, ds.targets):
                i = resized.get(bytes(x))
                if i is not None:
                    found += 1
                    assert t == y[i], (label, paths[i])
    assert found == 2 * len(rows)


def test_elpv_size_and_test_fraction():
    small = offline.load_elpv("test", label="cell-type", size=16, test_fraction=0.5)
    _, y = _expected_elpv("cell-type")
    assert small.images.shape[1:] == (16, 16)
    assert abs(len(small) - 0.5 * y.size) <= 2


@pytest.mark.parametrize("kwargs, match", [
    ({"label": "defects"}, "label must be one of defect, defect-level, cell-type"),
    ({"label": 1}, "label"),
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"test_fraction": 0}, "test_fraction"),
    ({"size": 8}, "size"),
    ({"size": 301}, "size"),
    ({"size": 64.0}, "size"),
])
def test_elpv_refuses_bad_params(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        get_plugins().datasets.get("elpv").check_params(kwargs)
    with pytest.raises(ConfigError, match=match):
        offline.load_elpv("train", **kwargs)


@pytest.fixture
def fresh_elpv_table():
    offline_data.elpv_table.cache_clear()
    yield
    offline_data.elpv_table.cache_clear()


def test_elpv_missing_package_names_it(monkeypatch, fresh_elpv_table):
    monkeypatch.setitem(sys.modules, "elpv_dataset", None)  # import elpv_dataset raises ImportError
    with pytest.raises(ConfigError, match=r"pip install elpv-dataset"):
        offline_data.check_elpv()
    with pytest.raises(ConfigError, match=r"pip install elpv-dataset"):
        get_plugins().datasets.get("elpv").check(None)


def test_elpv_missing_or_malformed_files(monkeypatch, tmp_path, fresh_elpv_table):
    monkeypatch.setattr(offline_data, "elpv_dir", lambda: tmp_path)
    with pytest.raises(ConfigError, match="labels.csv not found"):
        offline_data.check_elpv()
    (tmp_path / "labels.csv").write_text("images/a.png 0.0 mono\nimages/b.png 1.0 poly\n")
    (tmp_path / "images").mkdir()
    Image.new("L", (300, 300)).save(tmp_path / "images" / "a.png")
    with pytest.raises(ConfigError, match="1 of 2 images .* missing .*images/b.png"):
        offline_data.check_elpv()
    offline_data.elpv_table.cache_clear()
    (tmp_path / "labels.csv").write_text("images/a.png 0.5 mono\n")
    with pytest.raises(ConfigError, match="labels.csv:1: expected"):
        offline_data.check_elpv()


# -- photo-patches ------------------------------------------------------------------------------------
def _grey_photos():
    from skimage import data

    out = []
    for name in offline_data.PHOTOS:
        x = np.asarray(getattr(data, name)())
        out.append(np.asarray(Image.fromarray(x).convert("L")) if x.ndim == 3 else x)
    return out


def test_photo_patches_counts_shapes_and_halves():
    photos = _grey_photos()
    train, test = offline.load_photo_patches("train"), offline.load_photo_patches("test")
    assert train.classes == list(offline_data.PHOTOS) and len(set(offline_data.PHOTOS)) == 8
    assert not set(offline_data.PHOTOS) & set(offline_data.TEXTURES)
    expected = {"train": [], "test": []}
    for photo in photos:
        h, w = photo.shape
        rows = (h - 64) // 32 + 1
        expected["train"].append(rows * ((w // 2 - 64) // 32 + 1))
        expected["test"].append(rows * ((w - w // 2 - 64) // 32 + 1))
    assert np.bincount(train.targets).tolist() == expected["train"]
    assert np.bincount(test.targets).tolist() == expected["test"]
    assert train.images.shape[1:] == test.images.shape[1:] == (64, 64) and train.images.dtype == np.uint8
    assert not _bytes(train.images) & _bytes(test.images)
    t_tr, t_te = np.asarray(train.targets), np.asarray(test.targets)
    for k, photo in enumerate(photos):  # the first patch of each half, cut here from the photo
        half = photo.shape[1] // 2
        np.testing.assert_array_equal(train.images[np.flatnonzero(t_tr == k)[0]], photo[:64, :64])
        np.testing.assert_array_equal(test.images[np.flatnonzero(t_te == k)[0]], photo[:64, half : half + 64])
    again = offline.load_photo_patches("test")
    np.testing.assert_array_equal(again.images, test.images)


def test_photo_patches_patch_and_stride():
    ds = offline.load_photo_patches("train", patch=32, stride=64)
    assert ds.images.shape[1:] == (32, 32) and sorted(set(ds.targets)) == list(range(8))


@pytest.mark.parametrize("kwargs, match", [({"patch": 7}, "patch"), ({"patch": 129}, "patch"),
                                           ({"stride": 0}, "stride"), ({"patch": 32.5}, "patch")])
def test_photo_patches_refuse_bad_params(kwargs, match):
    with pytest.raises(ConfigError, match=f"{match} must be an integer"):
        get_plugins().datasets.get("photo-patches").check_params(kwargs)
    with pytest.raises(ConfigError, match=f"{match} must be an integer"):
        offline.load_photo_patches("train", **kwargs)
    with pytest.raises(ConfigError, match="no split 'val'"):
        offline.load_photo_patches("val")
