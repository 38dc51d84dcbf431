"""The paper's CLUE datasets (IFLYTEK, 119 classes; TNEWS, 15 classes) through HF datasets.

``load_dataset("clue/clue", <name>)`` (the parquet copy of the CLUE benchmark on the hub),
downloaded only when the run allows it (``--allow-download``). CLUE's test labels are hidden, so
the ``test`` split here is CLUE's public validation split (as CLUE papers report dev accuracy).
"""
from __future__ import annotations

from pathlib import Path

from ....errors import ConfigError
from ...base import DatasetSpec
from .common import TextData

HUB_ID = "clue/clue"


def _loader(config: str):
    def load(split: str, ctx=None, **_) -> TextData:
        import datasets

        datasets.disable_progress_bars()
        ds = datasets.load_dataset(HUB_ID, config, split="train" if split == "train" else "validation",
                                   cache_dir=str(Path(ctx.cache_dir) / "hf-datasets") if ctx is not None else None)
        classes = list(ds.features["label"].names)
        ds = ds.rename_column("sentence", "text").select_columns(["text", "label"])
        return TextData(ds, classes, f"{HUB_ID}/{config}")

    return load


def _check(config: str):
    def check(ctx=None, **params) -> None:
        if ctx is not None and not ctx.download:
            raise ConfigError(f"clue-{config} is downloaded from the hub ({HUB_ID}): run with --allow-download")

    return check


DATASETS = (
    DatasetSpec("clue-iflytek", "CLUE IFLYTEK: app descriptions, 119 classes (hub, needs --allow-download)", "text",
                _loader("iflytek"), num_classes=119, check=_check("iflytek")),
    DatasetSpec("clue-tnews", "CLUE TNEWS: news titles, 15 classes (hub, needs --allow-download)", "text",
                _loader("tnews"), num_classes=15, check=_check("tnews")),
)
