"""Registers the built-in datasets through the facebench hooks.

Offline (pip/apt packages): fashion-mnist, mnist-5k, digits, lfw-subset, textures, image-folder.
Downloadable (the paper's, through torchvision; download only when allowed): cifar-10, cifar-100,
oxford-pets, cub-200-2011, gtsrb, dtd, stl-10, flowers-102, stanford-cars, country-211, food-101,
svhn, fgvc-aircraft. Importing this module imports neither torch nor torchvision.
"""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def facebench_datasets():
    from . import image_folder, offline, torchvision_sets

    return [*offline.DATASETS, *image_folder.DATASETS, *torchvision_sets.DATASETS]
