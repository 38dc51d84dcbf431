"""The FaCe paper's text zoo (§4.5): NEZHA, RoBERTa and four RoBERTa variants, IFLYTEK -> TNEWS.

Hub checkpoints (downloaded only with ``--allow-download``): ``sijunhe/nezha-cn-base`` (NEZHA-cn-
base converted for transformers' NezhaModel) and ``hfl/chinese-roberta-wwm-ext`` (a BERT model).
Each is trained on CLUE IFLYTEK (119 classes) with its variant's head and loss, 10 epochs,
batch 16, AdamW lr 2e-5 with warm-up (the paper's recipe for both stages), then fine-tuned on
TNEWS (``configs/paper/text.yaml``). The paper does not give the variants' parameters; the
defaults of :mod:`..heads` are used (highway: one layer, gate bias -1; 5 dropout samples, the
mean of their losses; R-drop alpha 1; poly-1 epsilon 1).
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo
from .embedded import HEAD_OPTIONS

NEZHA = "hub:sijunhe/nezha-cn-base"
ROBERTA = "hub:hfl/chinese-roberta-wwm-ext"
VARIANTS = (
    ("roberta-highway", "highway", "ce"),
    ("roberta-multi-sample-dropout", "multi-sample-dropout", "ce"),
    ("roberta-r-drop", "linear", "r-drop"),
    ("roberta-poly-1", "linear", "poly-1"),
)


def _iflytek(loss: str) -> PretrainSpec:
    return PretrainSpec(source="clue-iflytek", loss=loss, epochs=10, lr=2e-5, batch_size=16, options={"warmup": 0.1})


MODELS = (
    ModelSpec("nezha", "nezha", NEZHA, pretrain=_iflytek("ce")),
    ModelSpec("roberta", "bert", ROBERTA, pretrain=_iflytek("ce")),
    *(ModelSpec(name, "bert", ROBERTA, pretrain=_iflytek(loss),
                options={"head": head, "loss": loss, **({"head_options": dict(HEAD_OPTIONS[head])} if head in HEAD_OPTIONS else {})})
      for name, head, loss in VARIANTS),
)

ZOO = Zoo("clue-6", "FaCe §4.5: NEZHA-cn-base, RoBERTa-wwm-ext and 4 RoBERTa variants trained on IFLYTEK",
          "text", MODELS)
