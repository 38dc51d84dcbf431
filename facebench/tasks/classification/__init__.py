"""Image classification task (FaCe §4.1-4.3).

Modules: ``task`` (the runner's entry points), ``options`` (benchmark options, hyper-parameters),
``data`` (dataset lookup, per-class caps), ``models`` (networks and weight sources), ``losses``
(source pre-training losses), ``pretrain`` (source pre-training and its model cache),
``extract`` (features), ``finetune`` (ground truth), ``training`` (shared loops).
"""
