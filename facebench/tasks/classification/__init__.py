"""Image classification task (FaCe §4.1-4.3): the task's whole home.

Modules: ``plugin`` (the hook implementations that register the task, its zoos and datasets),
``task`` (the runner's entry points), ``options`` (benchmark options, hyper-parameters),
``data`` (dataset lookup, per-class caps), ``models`` (networks and weight sources), ``losses``
(source pre-training losses), ``pretrain`` (source pre-training and its model cache),
``extract`` (features), ``finetune`` (ground truth), ``training`` (inference passes);
``zoos/`` (embedded and paper zoos), ``datasets/`` (offline, image-folder, torchvision).
"""
