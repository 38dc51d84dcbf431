"""The classification task's plugin: its task, zoos and datasets, registered through the hooks.

Loaded like any plugin module (``facebench.plugins.BUILTIN_PLUGINS`` lists it beside the metrics):

* task ``classification`` (:mod:`.task`);
* zoos ``embedded-classification``, ``embedded-classification-scratch`` and
  ``efficientnet-lite-imagenet`` (offline, CPU-sized;
  :mod:`.zoos.embedded`) and the paper's
  ``imagenet-15``, ``multisource-30``, ``homogeneous-21`` (:mod:`.zoos.paper`; ImageNet weights
  and source datasets are downloaded when allowed);
* datasets: offline (pip/apt packages) fashion-mnist, mnist-5k, digits, lfw-subset, textures,
  photo-patches, elpv, animal-mnist, tuxpaint-stamps, emoji-groups (:mod:`.datasets.packaged`),
  printed-digits and printed-letters (rendered from matplotlib's fonts), image-folder;
  downloadable (the paper's, through torchvision; only when allowed) cifar-10, cifar-100,
  oxford-pets, cub-200-2011, gtsrb, dtd, stl-10, flowers-102, stanford-cars, country-211,
  food-101, svhn, fgvc-aircraft (:mod:`.datasets`).

Importing this module imports neither torch nor torchvision.
"""
from __future__ import annotations

from ...hookspecs import hookimpl


@hookimpl
def facebench_tasks():
    from .task import TASK

    return [TASK]


@hookimpl
def facebench_zoos():
    from .zoos import embedded, paper

    return [embedded.ZOO, embedded.ARCHITECTURES_ZOO, embedded.SCRATCH_ZOO, embedded.LITE_ZOO, *paper.ZOOS]


@hookimpl
def facebench_datasets():
    from .datasets import image_folder, offline, packaged, printed_digits, printed_letters, torchvision_sets

    return [*offline.DATASETS, *packaged.DATASETS, *printed_digits.DATASETS, *printed_letters.DATASETS,
            *image_folder.DATASETS, *torchvision_sets.DATASETS]
