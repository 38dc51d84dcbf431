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


def _cached(config: str, ctx) -> bool:
    """Whether HF datasets has prepared ``config`` under the task's cache (``<cache_dir>/hf-datasets``); disk only."""
    root = Path(ctx.cache_dir) / "hf-datasets" / HUB_ID.replace("/", "___") / config
    return root.is_dir() and any(root.rglob("*.arrow"))


def _check(config: str):
    def check(ctx=None, **params) -> None:
        """No network call: a plan says what a run would download (its content is checked when a job reads it)."""
        if ctx is None:
            return
        if not ctx.download:
            raise ConfigError(f"clue-{config} is downloaded from the hub ({HUB_ID}): run with --allow-download")
        note = getattr(ctx, "note", None)
        if callable(note) and not _cached(config, ctx):
            note(f"would download {HUB_ID} ({config}) (hub dataset clue-{config}, not in {Path(ctx.cache_dir) / 'hf-datasets'})")

    return check


DATASETS = (
    DatasetSpec("clue-iflytek", "CLUE IFLYTEK: app descriptions, 119 classes (hub, needs --allow-download)", "text",
                _loader("iflytek"), num_classes=119, check=_check("iflytek"), params={}),
    DatasetSpec("clue-tnews", "CLUE TNEWS: news titles, 15 classes (hub, needs --allow-download)", "text",
                _loader("tnews"), num_classes=15, check=_check("tnews"), params={}),
)
