"""Text models: a transformers backbone (NEZHA or BERT/RoBERTa-wwm), the pooled [CLS] output, a head.

``ModelSpec.arch``: ``nezha`` (``transformers.NezhaModel``, deprecated in 4.57.6 and removed in
5.0) or ``bert`` (``transformers.BertModel``; Chinese RoBERTa-wwm checkpoints are BERT models).
``ModelSpec.weights``: ``None`` (random initialisation from the size in ``options``), ``hub:<id>``
(``from_pretrained``, downloaded only when the run allows it) or a local checkpoint directory.
``options``: ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``, ``intermediate_size``,
``max_position_embeddings`` (NEZHA's relative-position buffers grow with it: size it to the
sequence length), ``dropout`` (hidden and head dropout, 0.1), ``vocab`` (``package:<pkg>/<file>``
or a path; default cn-clip's ``vocab.txt``, bert-base-chinese's ids), ``head`` and ``loss``
(:mod:`.heads`), ``head_options``/``loss_options``.

Features (what the metrics see) are the pooled [CLS] output ``tanh(W h_[CLS] + b)``: the
representation that BertForSequenceClassification's classifier, and every head here, reads; the
pooler is trained with the classifier during source training, so it is the sentence
representation that source training shaped (the mean of the last hidden states is not what any
head reads). A batch ``x`` is one long tensor B x 2 x L: token ids and attention mask.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import ConfigError
from ..base import ModelSpec
from .datasets.common import package_file
from .heads import build_head, variant_of

ARCHS = ("nezha", "bert")
DEFAULT_VOCAB = "package:cn_clip/clip/vocab.txt"
SIZE_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings")
MODEL_OPTION_KEYS = (*SIZE_KEYS, "dropout", "vocab", "head", "loss", "head_options", "loss_options", "max_relative_position")


def transformers():
    import transformers as tf

    tf.logging.set_verbosity_error()
    return tf


def check_spec(spec: ModelSpec) -> None:
    if spec.arch not in ARCHS:
        raise ConfigError(f"model {spec.name!r}: unknown text architecture {spec.arch!r} (known: {', '.join(ARCHS)})")
    unknown = sorted(set(spec.options or {}) - set(MODEL_OPTION_KEYS))
    if unknown:
        raise ConfigError(f"model {spec.name!r}: unknown option(s) {', '.join(unknown)} (known: {', '.join(MODEL_OPTION_KEYS)})")
    variant_of(spec.options or {})


def hub_id(spec: ModelSpec) -> str | None:
    w = spec.weights
    return w[4:] if isinstance(w, str) and w.startswith("hub:") else None


def vocab_path(spec: ModelSpec) -> Path | None:
    """The local vocabulary file (None for hub checkpoints and local checkpoint dirs: their own)."""
    if spec.weights is not None:
        return None
    ref = str((spec.options or {}).get("vocab", DEFAULT_VOCAB))
    if ref.startswith("package:"):
        package, _, rel = ref[len("package:"):].partition("/")
        return package_file(package, rel)
    path = Path(ref).expanduser()
    if not path.is_file():
        raise ConfigError(f"model {spec.name!r}: vocabulary file {path} not found")
    return path


def check_weights(spec: ModelSpec, ctx) -> None:
    check_spec(spec)
    if hub_id(spec) is not None:
        if not ctx.download:
            raise ConfigError(f"model {spec.name!r}: weights {spec.weights} need a download (run with --allow-download)")
    elif spec.weights is not None and not Path(spec.weights).expanduser().is_dir():
        raise ConfigError(f"model {spec.name!r}: checkpoint directory {spec.weights} not found")
    vocab_path(spec)


@functools.lru_cache(maxsize=8)
def _local_tokenizer(path: str):
    return transformers().BertTokenizerFast(vocab_file=path)


def load_tokenizer(spec: ModelSpec, ctx):
    vocab = vocab_path(spec)
    if vocab is not None:
        return _local_tokenizer(str(vocab))
    source = hub_id(spec) or str(Path(spec.weights).expanduser())
    return transformers().BertTokenizerFast.from_pretrained(source, cache_dir=str(Path(ctx.cache_dir) / "hub"))


def _config(spec: ModelSpec, vocab_size: int):
    tf = transformers()
    o = dict(spec.options or {})
    size = {k: int(o[k]) for k in SIZE_KEYS if k in o}
    dropout = float(o.get("dropout", 0.1))
    common = dict(vocab_size=vocab_size, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **size)
    if spec.arch == "nezha":
        return tf.NezhaConfig(max_relative_position=int(o.get("max_relative_position", 64)), **common)
    return tf.BertConfig(**common)


def build_backbone(spec: ModelSpec, ctx, vocab_size: int, load_weights: bool = True) -> nn.Module:
    tf = transformers()
    cls = tf.NezhaModel if spec.arch == "nezha" else tf.BertModel
    if spec.weights is None or not load_weights:
        if spec.weights is None:
            return cls(_config(spec, vocab_size))
        source = hub_id(spec) or str(Path(spec.weights).expanduser())
        config = (tf.NezhaConfig if spec.arch == "nezha" else tf.BertConfig).from_pretrained(
            source, cache_dir=str(Path(ctx.cache_dir) / "hub"))
        return cls(config)
    source = hub_id(spec) or str(Path(spec.weights).expanduser())
    return cls.from_pretrained(source, cache_dir=str(Path(ctx.cache_dir) / "hub"))


class TextNet(nn.Module):
    """Backbone -> pooled [CLS] (``features``) -> head (``head``)."""

    def __init__(self, backbone: nn.Module, head_kind: str, num_classes: int, dropout: float,
                 head_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.head_kind = head_kind
        self.dropout = dropout
        self.head_options = dict(head_options or {})
        self.dim = int(backbone.config.hidden_size)
        self.head = build_head(head_kind, self.dim, num_classes, dropout, **self.head_options)
        self.num_classes = num_classes

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # the batch is cut to its longest text: the padding after it is masked out, so the pooled
        # [CLS] output is the same up to rounding, and short texts cost less (inews titles: median 24 characters)
        length = max(int(x[:, 1].sum(dim=1).max()), 1)
        out = self.backbone(input_ids=x[:, 0, :length], attention_mask=x[:, 1, :length])
        return out.pooler_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def reset_head(self, num_classes: int) -> None:
        """A fresh head of the same kind for ``num_classes`` (target fine-tuning)."""
        self.head = build_head(self.head_kind, self.dim, num_classes, self.dropout, **self.head_options)
        self.num_classes = num_classes


def build_net(spec: ModelSpec, ctx, num_classes: int, vocab_size: int, load_weights: bool = True) -> TextNet:
    o = dict(spec.options or {})
    head, _ = variant_of(o)
    backbone = build_backbone(spec, ctx, vocab_size, load_weights)
    return TextNet(backbone, head, num_classes, float(o.get("dropout", 0.1)), dict(o.get("head_options") or {}))
