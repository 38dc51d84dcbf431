"""Semantic segmentation task (FaCe §4.4) on mmsegmentation: the task's whole home.

Modules: ``plugin`` (hook implementations), ``task`` (the runner's entry points), ``options``
(benchmark options, hyper-parameters), ``mm`` (mmseg PSPNet config dicts and building),
``data`` (dataset lookup, reading through mmseg's BaseSegDataset), ``pixels`` (the class-balanced
pixel sample), ``training`` (training and inference passes), ``pretrain`` (source pre-training
and its cache), ``extract`` (per-pixel features), ``finetune`` and ``evaluate`` (ground truth by
mmseg's IoUMetric); ``zoos/`` (embedded and paper zoos), ``datasets/`` (scenes, folders, paper).
"""
