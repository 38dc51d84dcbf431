"""``printed-digits``: digits 0-9 rendered from the fonts that matplotlib installs (a source).

A pre-training source of another domain than the handwritten digit targets (MNIST, scikit-learn's
digits): printed glyphs of the DejaVu, STIX and Computer Modern fonts in matplotlib's
``mpl-data/fonts/ttf`` (no download), each drawn with a random size, stroke width, rotation,
shear and position, then fitted the way MNIST was made: the glyph's bounding box scaled to a
20-pixel box (aspect kept) and centred by its centre of mass in a 28x28 grey image, white on
black. The printed-to-handwritten gap is the classic synthetic-digits transfer setting (e.g.
SynDigits -> MNIST in the domain-adaptation literature); here it gives the embedded zoo members
whose transfer to the digit targets really differs from the Fashion-MNIST ones.

The test split uses fonts that the train split never sees (every fourth font in name order), so
a model's source accuracy measures generalisation to unseen typefaces. Every image is drawn from
``numpy.random.default_rng([seed, split, label, index])``: the same parameters give the same
images on every run, whatever the order they are asked in. Pixels can differ across Pillow /
FreeType builds (glyph rasterisation); within one install they are bitwise repeatable.

Params: ``per_class`` (images per class and split; train default 300, test 100; rendering time:
``benchmarks/embedded_classification.md``) and ``seed`` (0).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from ....checks import check_int, count, integer, refuse_unknown
from ....errors import ConfigError
from ...base import DatasetSpec
from .common import ArrayImageDataset

NAME = "printed-digits"
SIZE = 28
BOX = 20  # MNIST: the glyph fits a 20x20 box, centred by mass in 28x28
# Fonts of matplotlib's mpl-data that draw the ten ASCII digits (the symbol and display-only
# fonts do not); the list is fixed so that a new matplotlib font changes nothing silently.
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)
DIGITS = tuple(str(d) for d in range(10))
SPLITS = {"train": 1, "test": 2}
DEFAULT_PER_CLASS = {"train": 300, "test": 100}
#: the parameters (DatasetSpec.params); ``data_root``, which the task adds to every dataset's, is ignored
PARAMS = {"per_class": count(nullable=True), "seed": integer()}


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def fonts_for(split: str) -> tuple[str, ...]:
    """Test: every fourth font in :data:`FONT_FILES` order (6 of 21); train: the other 15."""
    held_out = FONT_FILES[::4]
    return held_out if split == "test" else tuple(f for f in FONT_FILES if f not in held_out)


def check_printed_digits(ctx=None, **options: Any) -> None:
    try:
        root = font_dir()
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ConfigError(f"dataset {NAME!r} renders matplotlib's fonts: pip install matplotlib ({exc})") from None
    missing = [f for f in FONT_FILES if not (root / f).is_file()]
    if missing:
        raise ConfigError(f"dataset {NAME!r}: matplotlib's font folder {root} lacks {', '.join(missing)}")


def _fit_mnist_style(glyph: np.ndarray, box: int, rng: np.random.Generator) -> np.ndarray:
    """Scale the glyph's bounding box into ``box`` pixels (aspect kept), centre it by mass in 28x28."""
    from PIL import Image

    rows, cols = np.nonzero(glyph > 0)
    crop = glyph[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray(crop).resize((nw, nh), Image.Resampling.LANCZOS), dtype=np.float64)
    small = np.clip(small, 0, 255)
    mass = small.sum()
    cy, cx = ((np.arange(nh)[:, None] * small).sum() / mass, (np.arange(nw)[None, :] * small).sum() / mass)
    out = np.zeros((SIZE, SIZE), np.float64)
    top = int(round(SIZE / 2 - cy + rng.uniform(-1.5, 1.5)))
    left = int(round(SIZE / 2 - cx + rng.uniform(-1.5, 1.5)))
    top, left = min(max(top, 0), SIZE - nh), min(max(left, 0), SIZE - nw)
    out[top : top + nh, left : left + nw] = small
    return out


def render_glyph(font_path: Path, text: str, rng: np.random.Generator, canvas_size: int = 96) -> np.ndarray:
    """One 28x28 uint8 image of the character ``text`` in the font at ``font_path``, with random
    drawing style (shared with ``printed-letters``), drawn first on a ``canvas_size`` square (wide
    glyphs such as W need a larger one than digits to stay whole at the largest size and rotation)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(font_path), size=int(rng.integers(40, 57)))
    c = canvas_size // 2
    canvas = Image.new("L", (canvas_size, canvas_size), 0)
    ImageDraw.Draw(canvas).text((c, c), text, fill=255, font=font, anchor="mm",
                                stroke_width=int(rng.integers(0, 4)), stroke_fill=255)
    shear = rng.uniform(-0.3, 0.3)
    canvas = canvas.transform(canvas.size, Image.Transform.AFFINE, (1, shear, -shear * c, 0, 1, 0),
                              resample=Image.Resampling.BILINEAR)
    canvas = canvas.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
    glyph = np.asarray(canvas)
    out = _fit_mnist_style(glyph, int(rng.integers(BOX - 4, BOX + 1)), rng)
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 0.8)))
    return np.asarray(img, dtype=np.uint8)


def render_digit(font_path: Path, digit: int, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 uint8 image of ``digit`` in the font at ``font_path``, with random drawing style."""
    return render_glyph(font_path, str(digit), rng)


@functools.lru_cache(maxsize=8)
def glyph_arrays(texts: tuple[str, ...], split: str, per_class: int, seed: int,
                 stream: tuple[int, ...] = (), canvas_size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` images of each of ``texts`` (label = its index) for ``split``; fonts cycle so each
    is used about equally. Image ``i`` of label ``k`` is drawn from
    ``default_rng([seed, split, k, i, *stream])``: ``stream`` keeps another glyph set's draws apart."""
    fonts = [font_dir() / f for f in fonts_for(split)]
    k = len(texts)
    images = np.empty((k * per_class, SIZE, SIZE), np.uint8)
    labels = np.repeat(np.arange(k, dtype=np.int64), per_class)
    for label, text in enumerate(texts):
        for i in range(per_class):
            rng = np.random.default_rng([seed, SPLITS[split], label, i, *stream])
            images[label * per_class + i] = render_glyph(fonts[i % len(fonts)], text, rng, canvas_size)
    images.setflags(write=False)
    return images, labels


def printed_digit_arrays(split: str, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` images of each digit for ``split``; fonts cycle so each is used about equally."""
    return glyph_arrays(DIGITS, split, per_class, seed)


def load_printed_digits(split: str, ctx=None, per_class: int | None = None, seed: int = 0,
                        **options: Any) -> ArrayImageDataset:
    if split not in SPLITS:
        raise ConfigError(f"dataset {NAME!r} has no split {split!r} (splits: {', '.join(SPLITS)})")
    where = f"dataset {NAME!r}"
    refuse_unknown((k for k in options if k != "data_root"), PARAMS, where, "option")
    n = check_int(DEFAULT_PER_CLASS[split] if per_class is None else per_class, "per_class", where, minimum=1)
    seed = check_int(seed, "seed", where)
    check_printed_digits(ctx)
    images, labels = printed_digit_arrays(split, n, seed)
    return ArrayImageDataset(images, labels, list(DIGITS), NAME)


DATASETS = (
    DatasetSpec(
        NAME, "digits 0-9 rendered from matplotlib's fonts (a pre-training source; test: unseen fonts)",
        "classification", load_printed_digits, num_classes=10, offline=True, check=check_printed_digits,
        params=PARAMS,
    ),
)
