"""``printed-digits``: the rendered-font source of the embedded classification zoo."""
from __future__ import annotations

import numpy as np
import pytest

from facebench.errors import ConfigError
from facebench.tasks.classification.datasets import printed_digits as pd


def test_train_and_test_fonts_are_disjoint_and_cover_the_list():
    train, test = set(pd.fonts_for("train")), set(pd.fonts_for("test"))
    assert not train & test
    assert train | test == set(pd.FONT_FILES)
    assert len(test) == 6  # every fourth of 21: indices 0, 4, 8, 12, 16, 20


def test_images_do_not_depend_on_how_many_are_asked_for():
    few, _ = pd.printed_digit_arrays("train", 3, 0)
    more, labels = pd.printed_digit_arrays("train", 5, 0)
    for label in range(10):
        np.testing.assert_array_equal(few[label * 3 : label * 3 + 3], more[label * 5 : label * 5 + 3])
    assert np.bincount(labels).tolist() == [5] * 10
    other_seed, _ = pd.printed_digit_arrays("train", 3, 1)
    assert not np.array_equal(few, other_seed)


def test_glyphs_are_centred_by_mass_like_mnist():
    images, _ = pd.printed_digit_arrays("test", 4, 0)
    assert images.shape == (40, 28, 28) and images.dtype == np.uint8
    for img in images.astype(np.float64):
        assert img.max() > 150  # a visible glyph, white on black
        mass = img.sum()
        cy = (np.arange(28)[:, None] * img).sum() / mass
        cx = (np.arange(28)[None, :] * img).sum() / mass
        assert abs(cy - 13.5) < 3.0 and abs(cx - 13.5) < 3.0  # centred by mass (+/- the 1.5 px jitter, blur)


def test_labels_name_the_glyphs_unseen_fonts_are_recognised():
    # A nearest-centroid classifier fitted on the train fonts must read digits drawn in fonts it has
    # never seen far above chance (0.1): it fails if labels and glyphs were paired wrongly.
    x_tr, y_tr = pd.printed_digit_arrays("train", 40, 0)
    x_te, y_te = pd.printed_digit_arrays("test", 20, 0)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64) / 255.0
    centroids = np.stack([flat(x_tr)[y_tr == k].mean(0) for k in range(10)])
    d = ((flat(x_te)[:, None, :] - centroids[None]) ** 2).sum(-1)
    assert (d.argmin(1) == y_te).mean() > 0.6


@pytest.mark.parametrize("kwargs, match", [
    ({"per_class": 0}, "per_class"),
    ({"per_class": "10"}, "per_class"),
    ({"seed": 1.5}, "seed"),
    ({"fonts": ["x"]}, "unknown option"),
])
def test_bad_options_are_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        pd.load_printed_digits("train", **kwargs)


def test_unknown_split_is_refused():
    with pytest.raises(ConfigError, match="no split 'val'"):
        pd.load_printed_digits("val")


def test_missing_font_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setattr(pd, "font_dir", lambda: tmp_path)
    with pytest.raises(ConfigError, match="lacks DejaVuSans.ttf"):
        pd.check_printed_digits()
