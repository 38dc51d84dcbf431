"""``printed-letters``: the 26 Latin letters rendered from the fonts that matplotlib installs (a target).

Text as images, drawn exactly as ``printed-digits`` draws its digits (:mod:`.printed_digits`: the
same 21 DejaVu, STIX and Computer Modern fonts of matplotlib's ``mpl-data/fonts/ttf``, no
download; the same random size, stroke width, rotation, shear and position; the glyph's bounding
box fitted MNIST-style into a 20-pixel box, centred by mass in a 28x28 grey image, white on
black). Only the canvas the glyph is first drawn on is larger (112 instead of 96 pixels), so that
a W stays whole at the largest size, stroke, shear and rotation. Every font draws all 52 letters
(checked against each font's character map).

``case``: ``upper`` (default: A-Z) or ``lower`` (a-z); 26 classes either way, named by the letter.
The test split uses the fonts the train split never sees (every fourth font, the same six as
``printed-digits``' test split), so test accuracy measures recognition of unseen typefaces. Image
``i`` of letter ``k`` is drawn from ``numpy.random.default_rng([seed, split, k, i, case])`` (case
1 upper, 2 lower: no draw is shared with ``printed-digits``, whose key has four numbers), so the
images are the same on every run and do not depend on how many are asked for. Pixels can differ
across Pillow / FreeType builds; within one install they are bitwise repeatable.

Its glyphs come from the fonts the ``printed-digits`` source models were pre-trained on: a target
near that source in domain (printed glyphs) with classes the source never had. Params:
``per_class`` (images per class and split; default 100 each: 2,600 train and 2,600 test images,
about 2 MB each; about 1 ms an image to render), ``seed`` (0), ``case``.
"""
from __future__ import annotations

import string
from typing import Any

from ....checks import check_choice, check_int, choice, count, integer, refuse_unknown
from ....errors import ConfigError
from ...base import DatasetSpec
from .common import ArrayImageDataset
from .printed_digits import SPLITS, check_printed_digits, glyph_arrays

NAME = "printed-letters"
CASES = {"upper": (tuple(string.ascii_uppercase), 1), "lower": (tuple(string.ascii_lowercase), 2)}
CANVAS = 112  # printed-digits draws on 96 px; a W at size 56, stroke 3, shear 0.3 and 12 degrees needs more
DEFAULT_PER_CLASS = {"train": 100, "test": 100}
#: the parameters (DatasetSpec.params); ``data_root``, which the task adds to every dataset's, is ignored
PARAMS = {"case": choice(*CASES), "per_class": count(nullable=True), "seed": integer()}


def check_printed_letters(ctx=None, **options: Any) -> None:
    """The fonts printed-digits renders (matplotlib's); names the missing ones."""
    try:
        check_printed_digits(ctx)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("'printed-digits'", repr(NAME))) from None


def printed_letter_arrays(split: str, per_class: int, seed: int, case: str = "upper"):
    """``per_class`` images of each letter of ``case`` for ``split`` (label = alphabet position)."""
    letters, stream = CASES[case]
    return glyph_arrays(letters, split, per_class, seed, stream=(stream,), canvas_size=CANVAS)


def load_printed_letters(split: str, ctx=None, case: str = "upper", per_class: int | None = None, seed: int = 0,
                         **options: Any) -> ArrayImageDataset:
    if split not in SPLITS:
        raise ConfigError(f"dataset {NAME!r} has no split {split!r} (splits: {', '.join(SPLITS)})")
    where = f"dataset {NAME!r}"
    refuse_unknown((k for k in options if k != "data_root"), PARAMS, where, "option")
    case = check_choice(case, "case", where, tuple(CASES))
    n = check_int(DEFAULT_PER_CLASS[split] if per_class is None else per_class, "per_class", where, minimum=1)
    seed = check_int(seed, "seed", where)
    check_printed_letters(ctx)
    images, labels = printed_letter_arrays(split, n, seed, case)
    return ArrayImageDataset(images, labels, list(CASES[case][0]), NAME)


DATASETS = (
    DatasetSpec(
        NAME, "Latin letters A-Z (or a-z) rendered from matplotlib's fonts like printed-digits; test: unseen fonts",
        "classification", load_printed_letters, num_classes=26, offline=True, check=check_printed_letters,
        params=PARAMS,
    ),
)
