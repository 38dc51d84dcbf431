"""Every example of README.md and docs/*.md is run: each ```yaml run config is planned (`facebench run
<file> --plan`) on small data this test writes, with the network disabled; a fragment is parsed and, for
``datasets:``/``sensitivity:``, merged into a minimal config and planned; a zoo file is read as one;
each ```python block compiles. An example that cannot be planned offline is listed in
:data:`NOT_PLANNED` with the reason, and only parsed and validated (:func:`facebench.config.load_config`).

The example's data paths are rewritten with :data:`PATHS` (the example's path -> the test's data,
written by :func:`write_data`): a new example naming a new path needs a line there.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import refuse_network
import yaml

from facebench.cli import main
from facebench.config import load_config
from facebench.plugins import reset_plugins_cache

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

# the example's path -> where this test writes small data of the same kind (relative to its data folder)
PATHS = {
    "~/data/semeion": "images/semeion",                    # image-folder: 3 classes of tiny PNGs
    "~/data/faces": "images/faces",
    "/data/scenes": "seg/scenes",                          # mmseg-folder: img_dir/{train,val}/*.jpg, ann_dir/.../*.png
    "/data/CamVid": "seg/camvid",                          # segnet-folder: 11 classes, ignore index 11
    "/data/cityscapes": "seg/cityscapes",                  # cityscapes: leftImg8bit/, gtFine/ labelTrainIds (19)
    "iflytek/train.json": "text/iflytek/train.json",       # clue-json
    "iflytek/dev.json": "text/iflytek/dev.json",
    "iflytek/labels.json": "text/iflytek/labels.json",
    "r.tsv": "text/r.tsv",                                 # text-table, headerless TSV: label, text
    "r-test.tsv": "text/r-test.tsv",
    "clue/tnews/train.json": "text/tnews/train.json",
    "clue/tnews/dev.json": "text/tnews/dev.json",
    "clue/tnews/labels.json": "text/tnews/labels.json",
    "clue/afqmc/train.json": "text/afqmc/train.json",      # clue-json sentence pairs
    "clue/afqmc/dev.json": "text/afqmc/dev.json",
    "ocnli/train.tsv": "text/ocnli/train.tsv",             # text-table TSV with a header: premise, hypothesis, label
    "ocnli/dev.tsv": "text/ocnli/dev.tsv",
    "data/cmnli": "text/cmnli",                            # a DatasetDict.save_to_disk folder (train, validation)
    "clue/tnews/train-*.parquet": "text/tnews-pq/train-*.parquet",
    "clue/tnews/validation-*.parquet": "text/tnews-pq/validation-*.parquet",
}

# examples that cannot be planned offline: (file, a line of the block) -> why; parsed and validated only
NOT_PLANNED: dict[tuple[str, str], str] = {}

# a fragment's datasets are planned as the targets of one benchmark of their task, with this zoo
FRAGMENT_ZOO = {"classification": "embedded-classification", "segmentation": "embedded-segmentation",
                "text": "embedded-text-scratch"}  # text: no source training, so no source corpus is read

# examples planned with downloads allowed (the plan must still fetch nothing): (file, a line) -> why
WITH_DOWNLOADS = {
    ("README.md", "zoo: imagenet-15"): "torchvision ImageNet weights and CIFAR-10 (the plan says what it needs)",
}

SENTENCES = ["这部电影很好看", "这本书不错", "今天天气很好", "我不喜欢这个", "价格太贵了", "服务很好",
             "质量一般", "非常满意", "不推荐购买", "还会再来"]


def blocks(lang: str) -> list[tuple[str, str]]:
    """(``file:line``, text) of every ```<lang> block of the docs."""
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) == lang:
                out.append((f"{doc.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}", m.group(2)))
    return out


def listed(table: dict, where: str, text: str) -> str | None:
    doc = where.split(":")[0]
    return next((why for (f, line), why in table.items() if f == doc and line in text), None)


# -- data ------------------------------------------------------------------------------------------
def _png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _image_folder(root: Path, classes: int = 3, per_class: int = 6) -> None:
    rng = np.random.default_rng(0)
    for c in range(classes):
        for i in range(per_class):
            _png(root / f"class{c}" / f"{i}.png", rng.integers(0, 255, (12, 12, 3), dtype=np.uint8) // (c + 1))


def _label_map(k: int, size: int = 24) -> np.ndarray:
    """Vertical stripes of every class 0..k-1 (each class present in every map)."""
    return (np.arange(size)[None, :].repeat(size, 0) * k // size).astype(np.uint8)


def _mmseg(root: Path, classes: int, suffix: str) -> None:
    rng = np.random.default_rng(1)
    for split, n in (("train", 4), ("val", 2)):
        for i in range(n):
            _png(root / "img_dir" / split / f"{i}{suffix}", rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
            _png(root / "ann_dir" / split / f"{i}.png", _label_map(classes))


def _segnet(root: Path, classes: int) -> None:
    rng = np.random.default_rng(2)
    for split, n in (("train", 4), ("test", 2)):
        for i in range(n):
            _png(root / split / f"{i}.png", rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
            _png(root / f"{split}annot" / f"{i}.png", _label_map(classes))


def _cityscapes(root: Path) -> None:
    rng = np.random.default_rng(3)
    for split, n in (("train", 4), ("val", 2)):
        for i in range(n):
            stem = f"aachen_{i:06d}_000019"
            _png(root / "leftImg8bit" / split / "aachen" / f"{stem}_leftImg8bit.png",
                 rng.integers(0, 255, (24, 48, 3), dtype=np.uint8))
            _png(root / "gtFine" / split / "aachen" / f"{stem}_gtFine_labelTrainIds.png", _label_map(19, 48)[:24])


def _lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _rows(n: int = 8) -> list[tuple[str, str, str]]:
    """(text, second text, label) rows with both labels."""
    return [(SENTENCES[i % 10], SENTENCES[(i + 3) % 10], str(i % 2)) for i in range(n)]


def write_data(data: Path) -> None:
    """The data every path of :data:`PATHS` names."""
    _image_folder(data / "images/semeion")
    _image_folder(data / "images/faces")
    _mmseg(data / "seg/scenes", 2, ".jpg")
    _segnet(data / "seg/camvid", 11)
    _cityscapes(data / "seg/cityscapes")
    for name in ("iflytek", "tnews"):
        for split in ("train", "dev"):
            _lines(data / f"text/{name}/{split}.json",
                   [json.dumps({"sentence": t, "label": y}, ensure_ascii=False) for t, _, y in _rows()])
        _lines(data / f"text/{name}/labels.json", [json.dumps({"label": y}) for y in ("0", "1")])
    for split in ("train", "dev"):
        _lines(data / f"text/afqmc/{split}.json",
               [json.dumps({"sentence1": a, "sentence2": b, "label": y}, ensure_ascii=False) for a, b, y in _rows()])
        _lines(data / f"text/ocnli/{split}.tsv", ["premise\thypothesis\tlabel", *("\t".join(r) for r in _rows())])
    for name in ("r", "r-test"):
        _lines(data / f"text/{name}.tsv", [f"{y}\t{t}" for t, _, y in _rows()])
    import datasets

    def table(pair: bool) -> "datasets.Dataset":
        rows = _rows()
        cols = {"sentence1": [a for a, _, _ in rows], "sentence2": [b for _, b, _ in rows]} if pair else \
            {"sentence": [a for a, _, _ in rows]}
        return datasets.Dataset.from_dict({**cols, "label": [int(y) for _, _, y in rows]})

    datasets.DatasetDict({"train": table(True), "validation": table(True)}).save_to_disk(str(data / "text/cmnli"))
    (data / "text/tnews-pq").mkdir(parents=True, exist_ok=True)
    for split in ("train", "validation"):
        table(False).to_parquet(str(data / f"text/tnews-pq/{split}-00000-of-00001.parquet"))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("doc-data")
    write_data(root)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One cache for the module's plans (the embedded scenes are written once)."""
    return tmp_path_factory.mktemp("doc-cache")


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt (and name lookup) is recorded and refused; no proxy is set."""
    attempts = refuse_network(monkeypatch)
    return attempts


def rewrite(value: Any, data: Path) -> Any:
    """The example with each path of :data:`PATHS` pointed at the test's data."""
    if isinstance(value, dict):
        return {k: rewrite(v, data) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v, data) for v in value]
    if isinstance(value, str) and value in PATHS:
        return str(data / PATHS[value])
    return value


def task_of(datasets: dict) -> str:
    from facebench.plugins import get_plugins

    registry = get_plugins().datasets
    tasks = {registry.get(entry["type"]).task for entry in datasets.values()}
    assert len(tasks) == 1, f"a fragment's datasets of several tasks: {tasks}"
    return tasks.pop()


def as_config(raw: dict) -> dict | None:
    """A run config from the example: itself, or a fragment merged into a minimal config (None: neither)."""
    if "benchmarks" in raw or "include" in raw:
        return raw
    if "datasets" in raw:
        task = task_of(raw["datasets"])
        return {"name": "doc-fragment", "metrics": ["logme"], **raw,
                "benchmarks": [{"task": task, "zoo": FRAGMENT_ZOO[task], "targets": list(raw["datasets"]), "seeds": [0]}]}
    if "sensitivity" in raw:
        return {"name": "doc-fragment", "metrics": list(raw["sensitivity"]), **raw,
                "benchmarks": [{"task": "classification", "zoo": "embedded-classification", "targets": ["digits"], "seeds": [0]}]}
    return None


def plan(path: Path, cache: Path, tmp: Path, capsys, *extra: str) -> str:
    try:
        main(["run", str(path), "--plan", "--cache-dir", str(cache), "--store", str(tmp / "store.sqlite"), *extra])
    except SystemExit as exc:
        err = capsys.readouterr().err
        pytest.fail(f"{path.name}: the plan failed (exit {exc.code}): {err.strip()}")
    return capsys.readouterr().out


YAML_BLOCKS = blocks("yaml")
PYTHON_BLOCKS = blocks("python")


def test_the_docs_have_examples():
    assert len(YAML_BLOCKS) >= 10 and len(PYTHON_BLOCKS) >= 5


@pytest.mark.parametrize("where,text", YAML_BLOCKS, ids=[w for w, _ in YAML_BLOCKS])
def test_yaml_example(where, text, data, cache, tmp_path, monkeypatch, capsys, no_network):
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict), f"{where}: an example is a YAML mapping"
    monkeypatch.chdir(tmp_path)  # relative stores and caches of an example land here
    monkeypatch.syspath_prepend(str(ROOT / "tests"))  # plugins: [toytask.plugin]
    reset_plugins_cache()
    if "models" in raw:  # a zoo file (facebench rank): read as one, its zoo: references resolved
        from facebench.plugins import get_plugins
        from facebench.references import load_zoo_file, resolve_registry_model

        path = tmp_path / "zoo.yaml"
        path.write_text(text, encoding="utf-8")
        zoo = load_zoo_file(path)
        zoos = {e.name: e.value for e in get_plugins().zoos.entries()}
        for ref in zoo.references:
            if ref.scheme == "zoo":
                resolve_registry_model(ref, zoos, zoo.task)
        return
    config = as_config(raw)
    assert config is not None, f"{where}: neither a run config, a zoo file nor a datasets/sensitivity fragment"
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(rewrite(config, data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    why = listed(NOT_PLANNED, where, text)
    if why is not None:
        load_config(path)
        return
    extra = ("--allow-download",) if listed(WITH_DOWNLOADS, where, text) else ()
    out = plan(path, cache, tmp_path, capsys, *extra)
    assert re.search(r"^\d+ job\(s\) would run", out, re.M), out[:500]
    assert not no_network, f"{where}: the plan tried the network: {no_network[:3]}"
    assert not (tmp_path / "store.sqlite").exists()
    reset_plugins_cache()


@pytest.mark.parametrize("where,text", PYTHON_BLOCKS, ids=[w for w, _ in PYTHON_BLOCKS])
def test_python_example_compiles(where, text):
    compile(text, where, "exec")


SHIPPED = sorted((ROOT / "facebench/data/configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT / "facebench/data/configs")) for p in SHIPPED])
def test_shipped_configs_parse_and_validate(path):
    cfg = load_config(path)
    assert cfg.benchmarks
