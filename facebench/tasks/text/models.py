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

Tokenizer (:func:`load_tokenizer`): a local checkpoint directory's own (``AutoTokenizer`` on the
directory) when it has tokenizer files (:data:`TOKENIZER_FILES`), else ``BertTokenizerFast`` on
the ``vocab`` file; a model without weights: the ``vocab`` file; a hub checkpoint: its vocabulary.

Features (what the metrics see; benchmark options ``pooling`` and ``layer``, :func:`pool`): by
default the pooled [CLS] output ``tanh(W h_[CLS] + b)``: the representation that
BertForSequenceClassification's classifier, and every head here, reads; the pooler is trained
with the classifier during source training, so it is the sentence representation that source
training shaped. ``pooling: mean`` averages the token states over the non-padding tokens
([CLS] and [SEP] included); ``layer``: ``last``, an index into the hidden states (0 the
embedding output, 1..N the layers, negative from the last) or ``mean`` (the mean of the N
layers' states, the embedding output excluded: transformer-ranker's ``layermean``, Garbas et al.,
Findings of ACL 2024). ``pooling: cls`` at a layer other than ``last`` is that layer's raw [CLS]
state (the pooler is trained on the last layer only). The head always reads the pooled output.

A batch ``x`` is one long tensor B x 3 x L: token ids, attention mask, token type ids (the second
text of a pair is type 1); a B x 2 x L tensor (no types) is read as all type 0.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...checks import refuse_unknown
from ...errors import ConfigError
from ..base import ModelSpec
from .datasets.common import package_file
from .heads import build_head, variant_of

log = logging.getLogger(__name__)
ARCHS = ("nezha", "bert")
DEFAULT_VOCAB = "package:cn_clip/clip/vocab.txt"
#: files that make a checkpoint directory's own tokenizer loadable (AutoTokenizer)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model",
                   "sentencepiece.bpe.model")
LAYERS = ("last", "mean")  # or an integer index into the hidden states
SIZE_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings")
MODEL_OPTION_KEYS = (*SIZE_KEYS, "dropout", "vocab", "head", "loss", "head_options", "loss_options", "max_relative_position")


def transformers():
    import transformers as tf

    tf.logging.set_verbosity_error()
    return tf


def check_spec(spec: ModelSpec) -> None:
    if spec.arch not in ARCHS:
        raise ConfigError(f"model {spec.name!r}: unknown text architecture {spec.arch!r} (known: {', '.join(ARCHS)})")
    refuse_unknown(spec.options or {}, MODEL_OPTION_KEYS, f"model {spec.name!r}", "option")
    variant_of(spec.options or {})


def hub_id(spec: ModelSpec) -> str | None:
    w = spec.weights
    return w[4:] if isinstance(w, str) and w.startswith("hub:") else None


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def cached_snapshot(repo_id: str, cache: Path | None) -> Path | None:
    """The local snapshot folder of hub checkpoint ``repo_id`` (its ``config.json`` cached) in the Hugging Face
    cache ``cache`` (None: the default cache), else None. Reads the disk only: never a network call."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        hit = try_to_load_from_cache(repo_id, "config.json", cache_dir=None if cache is None else str(cache))
    except ValueError:  # not a valid repo id
        return None
    return Path(hit).parent if isinstance(hit, str) and Path(hit).is_file() else None


def hub_snapshot(spec: ModelSpec, ctx) -> Path | None:
    """A hub checkpoint's snapshot on disk (``<cache_dir>/hub``, where the task downloads, then the default
    cache), else None (not a hub checkpoint, or not cached): validation and the plan look here only."""
    repo = hub_id(spec)
    if repo is None:
        return None
    for cache in (Path(ctx.cache_dir) / "hub", None):
        snapshot = cached_snapshot(repo, cache)
        if snapshot is not None:
            return snapshot
    return None


def has_weight_files(folder: Path) -> bool:
    return any((folder / name).is_file() for name in WEIGHT_FILES)


def hub_ready(spec: ModelSpec, ctx) -> bool:
    """False for a hub checkpoint whose weights or tokenizer are not on disk (a run would download them)."""
    if hub_id(spec) is None:
        return True
    snapshot = hub_snapshot(spec, ctx)
    return snapshot is not None and has_weight_files(snapshot) and has_tokenizer_files(snapshot)


def local_checkpoint(spec: ModelSpec) -> Path | None:
    """The model's local checkpoint directory (None: random initialisation or a hub checkpoint)."""
    if spec.weights is None or hub_id(spec) is not None:
        return None
    return Path(spec.weights).expanduser()


def has_tokenizer_files(folder: Path) -> bool:
    return any((folder / name).is_file() for name in TOKENIZER_FILES)


def vocab_path(spec: ModelSpec) -> Path | None:
    """The local vocabulary file (None for hub checkpoints and local checkpoint dirs with a tokenizer:
    their own); a local checkpoint directory without tokenizer files uses the ``vocab`` option's."""
    folder = local_checkpoint(spec)
    if hub_id(spec) is not None or (folder is not None and (not folder.is_dir() or has_tokenizer_files(folder))):
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
    """ConfigError when the weights cannot be had; a hub checkpoint is looked for on disk only (no network)."""
    check_spec(spec)
    if hub_id(spec) is not None:
        snapshot = hub_snapshot(spec, ctx)
        if not ctx.download and (snapshot is None or not has_weight_files(snapshot)):
            raise ConfigError(f"model {spec.name!r}: weights {spec.weights} are not in the Hugging Face cache "
                              f"({Path(ctx.cache_dir) / 'hub'} or the default cache) and need a download "
                              "(run with --allow-download)")
    elif spec.weights is not None and not Path(spec.weights).expanduser().is_dir():
        raise ConfigError(f"model {spec.name!r}: checkpoint directory {spec.weights} not found")
    vocab_path(spec)


@functools.lru_cache(maxsize=8)
def _local_tokenizer(path: str):
    return transformers().BertTokenizerFast(vocab_file=path)


@functools.lru_cache(maxsize=8)
def _checkpoint_tokenizer(folder: str):
    """The directory's own tokenizer (AutoTokenizer); BertTokenizerFast where AutoTokenizer cannot
    tell the class (no tokenizer_config.json and no model_type) but a vocab.txt is there."""
    tf = transformers()
    try:
        return tf.AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as exc:
        if (Path(folder) / "vocab.txt").is_file():
            return tf.BertTokenizerFast.from_pretrained(folder)
        raise ConfigError(f"{folder}: its tokenizer files cannot be loaded ({str(exc).splitlines()[0]})") from None


def load_tokenizer(spec: ModelSpec, ctx, local_only: bool = False):
    """The model's tokenizer; a hub checkpoint's from its cached snapshot when it is on disk. With
    ``local_only`` (validation, the plan) None for a hub checkpoint that is not: nothing is downloaded."""
    vocab = vocab_path(spec)
    if vocab is not None:
        if spec.weights is not None:
            log.info("model %r: checkpoint folder %s has no tokenizer files: BertTokenizerFast on %s",
                     spec.name, spec.weights, vocab)
        return _local_tokenizer(str(vocab))
    folder = local_checkpoint(spec)
    if folder is not None:
        return _checkpoint_tokenizer(str(folder))
    snapshot = hub_snapshot(spec, ctx)
    if snapshot is not None and has_tokenizer_files(snapshot):
        return transformers().BertTokenizerFast.from_pretrained(str(snapshot))
    if local_only:
        return None
    return transformers().BertTokenizerFast.from_pretrained(hub_id(spec), cache_dir=str(Path(ctx.cache_dir) / "hub"))


def num_layers(spec: ModelSpec) -> int | None:
    """The model's number of transformer layers where known without loading it (None: a hub checkpoint)."""
    o = dict(spec.options or {})
    if "num_hidden_layers" in o:
        return int(o["num_hidden_layers"])
    folder = local_checkpoint(spec)
    if folder is not None:
        try:
            return int(json.loads((folder / "config.json").read_text())["num_hidden_layers"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return 12 if spec.weights is None else None  # BertConfig's and NezhaConfig's default


def check_layer(layer: Any, layers: int, what: str) -> None:
    """ConfigError unless ``layer`` (``last``, ``mean`` or an index) names a hidden state of a model of ``layers`` layers."""
    if layer in LAYERS:
        return
    if not -(layers + 1) <= int(layer) <= layers:
        raise ConfigError(f"options.layer {layer} is out of range for {what} ({layers} layers: 0 is the embedding "
                          f"output, 1..{layers} the layers, -1..-{layers + 1} counted from the last)")


def pool(out, mask: torch.Tensor, pooling: str = "cls", layer: Any = "last") -> torch.Tensor:
    """Sentence features of one backbone output (``hidden_states`` needed unless ``layer`` is last)."""
    if pooling == "cls" and layer == "last":
        return out.pooler_output
    if layer == "last":
        states = out.last_hidden_state
    elif layer == "mean":
        states = torch.stack(tuple(out.hidden_states[1:])).mean(dim=0)
    else:
        states = out.hidden_states[int(layer)]
    if pooling == "cls":
        return states[:, 0]
    m = mask[:, :states.shape[1]].unsqueeze(-1).to(states.dtype)
    return (states * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


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
    snapshot = hub_snapshot(spec, ctx)
    if snapshot is not None and has_weight_files(snapshot):  # a cached hub checkpoint: read from disk
        spec = dataclasses.replace(spec, weights=str(snapshot))
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

    def encode(self, x: torch.Tensor, hidden_states: bool = False):
        """(backbone output, attention mask) of a batch, cut to its last non-padding column."""
        # the padding after the longest text is masked out, so the outputs are the same up to
        # rounding, and short texts cost less (inews titles: median 24 characters)
        columns = x[:, 1].any(dim=0).nonzero()
        length = int(columns.max()) + 1 if len(columns) else 1
        kwargs = {"output_hidden_states": True} if hidden_states else {}
        if x.shape[1] > 2:
            kwargs["token_type_ids"] = x[:, 2, :length]
        out = self.backbone(input_ids=x[:, 0, :length], attention_mask=x[:, 1, :length], **kwargs)
        return out, x[:, 1, :length]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled [CLS] output: what the head reads."""
        return self.encode(x)[0].pooler_output

    def sentence_features(self, x: torch.Tensor, pooling: str = "cls", layer: Any = "last"):
        """(pooled [CLS] output for the head, the features ``pooling``/``layer`` name), one forward pass."""
        if layer not in LAYERS:
            check_layer(layer, int(self.backbone.config.num_hidden_layers), "the model")
        out, mask = self.encode(x, hidden_states=layer != "last")
        return out.pooler_output, pool(out, mask, pooling, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def sample_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The head's samples of the logits (:func:`.heads.sample_logits`), one backbone pass."""
        return self.head.sample_logits(self.features(x))

    def reset_head(self, num_classes: int) -> None:
        """A fresh head of the same kind for ``num_classes`` (target fine-tuning)."""
        self.head = build_head(self.head_kind, self.dim, num_classes, self.dropout, **self.head_options)
        self.num_classes = num_classes


def build_net(spec: ModelSpec, ctx, num_classes: int, vocab_size: int, load_weights: bool = True) -> TextNet:
    o = dict(spec.options or {})
    head, _ = variant_of(o)
    backbone = build_backbone(spec, ctx, vocab_size, load_weights)
    return TextNet(backbone, head, num_classes, float(o.get("dropout", 0.1)), dict(o.get("head_options") or {}))
