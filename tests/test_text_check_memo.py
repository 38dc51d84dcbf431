"""The text task's memo of passed content checks (``<cache_dir>/checks/text/<key>.json``): a second
validation of unchanged inputs neither loads nor tokenizes, logs the same lines; a changed file or
option re-checks; a failing check is never stamped."""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from facebench.errors import ConfigError
from facebench.plugins import get_plugins

pytest.importorskip("transformers")
pytest.importorskip("datasets")

pytestmark = pytest.mark.skipif(importlib.util.find_spec("cn_clip") is None,
                                reason="cn-clip (the vocabulary) is not installed")


def scratch():
    from facebench.tasks.base import ModelSpec

    return ModelSpec("scratch", "bert", None, options={"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                                                      "intermediate_size": 32, "max_position_embeddings": 16})


def ctx_for(tmp_path: Path, instances: dict[str, dict]):
    from facebench.runner.context import task_context
    from facebench.tasks.base import DatasetInstance, Zoo

    plugins = get_plugins(("tiny_text_plugin",))
    ctx = task_context(plugins, cache_dir=tmp_path / "cache", quiet=True, download=False,
                       options={"max_length": 16, "num_threads": 1})
    ctx.instances = {n: DatasetInstance(n, plugins.datasets.get(p["type"]), {k: v for k, v in p.items() if k != "type"})
                     for n, p in instances.items()}
    ctx.zoos = {**ctx.zoos, "one-scratch": Zoo("one-scratch", "", "text", (scratch(),))}
    return ctx


def validate(tmp_path, instances, target="t", **options):
    task = get_plugins(("tiny_text_plugin",)).tasks.get("text")
    bench = SimpleNamespace(task="text", zoo="one-scratch", targets=(target,), seeds=(0,), finetune={},
                            options={"max_length": 16, "num_threads": 1, **options})
    task.validate(bench, ctx_for(tmp_path, instances))


@pytest.fixture
def counts(monkeypatch):
    """Calls of load_text and of the tokenizer's unknown-token count during validation."""
    from facebench.tasks.text import data

    n = {"load": 0, "tokenize": 0}
    load, rate = data.load_text, data.unknown_rate

    def counted_load(*a, **k):
        n["load"] += 1
        return load(*a, **k)

    def counted_rate(*a, **k):
        n["tokenize"] += 1
        return rate(*a, **k)

    monkeypatch.setattr(data, "load_text", counted_load)
    monkeypatch.setattr(data, "unknown_rate", counted_rate)
    return n


def table(tmp_path: Path, rows: str) -> dict[str, dict]:
    f = tmp_path / "d.csv"
    f.write_text("text,label\n" + rows, encoding="utf-8")
    return {"t": {"type": "text-table", "train": str(f), "test": str(f)}}


GOOD = "好看,pos\n难看,neg\n  ,pos\n不错,pos\n"


def test_a_second_validation_neither_loads_nor_tokenizes_and_logs_the_same(tmp_path, counts, caplog):
    inst = table(tmp_path, GOOD)
    with caplog.at_level(logging.WARNING, logger="facebench.tasks.text.data"):
        validate(tmp_path, inst, drop_empty=True)
    first = [r.getMessage() for r in caplog.records if "dropping" in r.getMessage()]
    assert counts == {"load": 2, "tokenize": 2} and len(first) == 2  # train and test, one empty text each
    assert len(list((tmp_path / "cache" / "checks" / "text").glob("*.json"))) == 2
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="facebench.tasks.text.data"):
        validate(tmp_path, inst, drop_empty=True)
    assert counts == {"load": 2, "tokenize": 2}  # nothing loaded or tokenized again
    assert [r.getMessage() for r in caplog.records if "dropping" in r.getMessage()] == first


def test_a_changed_file_or_option_checks_again(tmp_path, counts):
    inst = table(tmp_path, GOOD)
    validate(tmp_path, inst, drop_empty=True)
    assert counts["load"] == 2
    validate(tmp_path, inst, drop_empty=True, max_unknown_rate=0.5)  # another threshold: checked again
    assert counts["load"] == 4
    validate(tmp_path, inst, drop_empty=True, max_unknown_rate=0.5)
    assert counts["load"] == 4
    f = Path(inst["t"]["train"])
    f.write_text("text,label\n好看,pos\n难看,neg\n", encoding="utf-8")  # another content (size and mtime)
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    validate(tmp_path, inst, drop_empty=True, max_unknown_rate=0.5)
    assert counts["load"] == 6
    # the stamped pass says nothing about other options: without drop_empty the empty text is refused
    with pytest.raises(ConfigError, match="empty or whitespace-only"):
        f.write_text("text,label\n好看,pos\n  ,neg\n", encoding="utf-8")
        validate(tmp_path, inst, max_unknown_rate=0.5)


def test_a_failing_check_is_refused_every_time(tmp_path, counts):
    inst = table(tmp_path, "ŋŋŋ ʬʬʬ,pos\nᚠᚢᚦ,neg\n")  # characters outside the vocabulary: all [UNK]
    for attempt in (1, 2):
        with pytest.raises(ConfigError, match="of the tokens are unknown"):
            validate(tmp_path, inst)
        assert counts["tokenize"] == attempt
    assert not list((tmp_path / "cache").glob("checks/text/*.json"))
