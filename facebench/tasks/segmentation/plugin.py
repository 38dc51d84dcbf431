"""The segmentation task's plugin: its task, zoos and datasets, registered through the hooks.

* task ``segmentation`` (:mod:`.task`);
* zoos ``embedded-segmentation`` (offline, CPU-sized PSPNets that facebench pre-trains on
  embedded scenes; :mod:`.zoos.embedded`) and the paper's ``pspnet-r50-8`` (:mod:`.zoos.paper`);
* datasets: embedded scenes (:mod:`.datasets.scenes`), your own folders ``mmseg-folder`` and
  ``segnet-folder`` (:mod:`.datasets.folders`), the paper's datasets (:mod:`.datasets.paper`).

Importing this module imports neither torch nor mmseg.
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

    return [embedded.ZOO, paper.ZOO]


@hookimpl
def facebench_datasets():
    from .datasets import folders, paper, scenes

    return [*scenes.DATASETS, *folders.DATASETS, *paper.DATASETS]
