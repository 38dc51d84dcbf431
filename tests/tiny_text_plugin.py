"""A config plugin module with the six text variants as tiny models (1 layer, width 16), source-
trained on a config's dataset instance ``tiny-iflytek`` (tests of the text task)."""
from __future__ import annotations

from facebench import hookimpl
from facebench.tasks.base import ModelSpec, PretrainSpec, Zoo

TINY = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
        "max_position_embeddings": 16}
VARIANTS = (("nezha", "nezha", "linear", "ce"), ("roberta", "bert", "linear", "ce"),
            ("roberta-highway", "bert", "highway", "ce"), ("roberta-msd", "bert", "multi-sample-dropout", "ce"),
            ("roberta-r-drop", "bert", "linear", "r-drop"), ("roberta-poly-1", "bert", "linear", "poly-1"))


def tiny_models(source: str = "tiny-iflytek") -> tuple[ModelSpec, ...]:
    return tuple(
        ModelSpec(name, arch, None, options={**TINY, "head": head, "loss": loss},
                  pretrain=PretrainSpec(source, loss, epochs=1, lr=1e-3, batch_size=4))
        for name, arch, head, loss in VARIANTS
    )


@hookimpl
def facebench_zoos():
    return [Zoo("tiny-text", "the six text variants, tiny (tests)", "text", tiny_models(), offline=True)]
