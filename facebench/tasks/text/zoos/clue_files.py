"""The paper's six models at CPU size, trained on your own copy of CLUE IFLYTEK (``clue-small``).

The same six variants as the paper's zoo (:mod:`.paper`: NEZHA, RoBERTa and RoBERTa with a
highway classifier, multi-sample dropout, R-drop, poly-1 loss), but small (the embedded zoo's
size: 2 layers, width 128, random initialisation, cn-clip's vocabulary) and trained by facebench
on the dataset instance named ``iflytek`` that the config defines, e.g. CLUE's own files::

    datasets:
      iflytek: {type: clue-json, train: clue/iflytek/train.json, test: clue/iflytek/dev.json}

(``configs/paper/text-cpu.yaml``; IFLYTEK -> TNEWS with no download). Source training: at most
``SOURCE_PER_CLASS`` sentences per class, 3 epochs, AdamW lr 5e-4 with warm-up, batch 32.
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo
from .embedded import HEAD_OPTIONS, SMALL
from .paper import VARIANTS

SOURCE = "iflytek"
SOURCE_PER_CLASS = 40


def _source(loss: str) -> PretrainSpec:
    return PretrainSpec(source=SOURCE, loss=loss, epochs=3, lr=5e-4, batch_size=32,
                        options={"train_per_class": SOURCE_PER_CLASS, "seed": 0, "warmup": 0.1})


MODELS = (
    ModelSpec("nezha", "nezha", None, pretrain=_source("ce"), options=dict(SMALL)),
    ModelSpec("roberta", "bert", None, pretrain=_source("ce"), options=dict(SMALL)),
    *(ModelSpec(name, "bert", None, pretrain=_source(loss),
                options={**SMALL, "head": head, "loss": loss,
                         **({"head_options": dict(HEAD_OPTIONS[head])} if head in HEAD_OPTIONS else {})})
      for name, head, loss in VARIANTS),
)

ZOO = Zoo("clue-small", "the paper's six text variants at CPU size, trained on the config's 'iflytek' dataset instance",
          "text", MODELS, offline=True)
