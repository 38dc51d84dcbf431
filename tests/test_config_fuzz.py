"""A fuzz pass over the shipped configs: random mutations of the embedded configs (loaded through
:func:`facebench.config.load_config`, includes resolved; the resolved raw dict is mutated) give a valid
plan or a one-line error (a :class:`~facebench.errors.FacebenchError` whose message has no newline),
never another exception, and never a store that changed.

Mutations: a dropped key; a wrong type (str for a number, a list for a mapping, None, ...); an
out-of-range number (negative, 0, 1.5, huge, NaN); an unknown name (a typo in a task, zoo, dataset,
metric, option or key); an added unknown key. The default's classification and segmentation blocks
are planned (a warm plan of both takes well under a second). Its text block's validation tokenizes
the inews corpus (about 8 s a plan), so the text task's settings are fuzzed on the paper's text config
with the embedded text options added (planned with the network disabled: it validates models and
options from the local cache alone) and the embedded text config itself only in a slow test.
"""
from __future__ import annotations

import copy
import hashlib
import math
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facebench.config import load_config, parse_config
from facebench.errors import FacebenchError
from facebench.runner import RunOptions, plan_run
from facebench.store import ResultsStore

EMBEDDED = Path(__file__).resolve().parents[1] / "facebench" / "data" / "configs" / "embedded"
WRONG_TYPES = ("abc", 7, -3, 1.5, True, None, [1, 2], ["x"], {"x": 1}, {}, [])
BAD_NUMBERS = (-1, 0, 1.5, -0.5, 10**9, 2**63, math.nan, math.inf, -math.inf)


def resolved(name: str, keep_tasks: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The embedded config's raw dict with its includes resolved (optionally only some tasks' blocks)."""
    raw = copy.deepcopy(dict(load_config(EMBEDDED / name).raw))
    if keep_tasks is not None:
        raw["benchmarks"] = [b for b in raw["benchmarks"] if b.get("task") in keep_tasks]
    return raw


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into nested dicts and lists."""
    out = []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return out
    for key, child in items:
        out.append((*prefix, key))
        out.extend(paths(child, (*prefix, key)))
    return out


def parent(raw: Any, path: tuple) -> Any:
    for key in path[:-1]:
        raw = raw[key]
    return raw


def typo(name: str, how: int) -> str:
    if how == 0 or len(name) < 2:
        return name + "x"
    if how == 1:
        return name[1] + name[0] + name[2:]
    return name[:-1]


@st.composite
def mutations(draw, raw: dict) -> tuple[dict, str]:
    """(mutated copy of ``raw``, what was done)."""
    raw = copy.deepcopy(raw)
    where = draw(st.sampled_from(paths(raw)))
    holder, key = parent(raw, where), where[-1]
    value = holder[key]
    kind = draw(st.sampled_from(["drop", "type", "number", "name", "add"]))
    shown = ".".join(map(str, where))
    if kind == "drop":
        del holder[key]
        return raw, f"dropped {shown}"
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        holder[key] = draw(st.sampled_from(BAD_NUMBERS))
        return raw, f"{shown}: {value!r} -> {holder[key]!r}"
    if kind == "name" and isinstance(value, str):
        holder[key] = typo(value, draw(st.integers(0, 2)))
        return raw, f"{shown}: {value!r} -> {holder[key]!r}"
    if kind == "name" and isinstance(holder, dict):  # a typo in a key
        new = typo(str(key), draw(st.integers(0, 2)))
        holder[new] = holder.pop(key)
        return raw, f"key {shown} -> {new!r}"
    if kind == "add":
        target = value if isinstance(value, dict) else holder if isinstance(holder, dict) else None
        if target is not None:
            target["unknwon_key"] = draw(st.sampled_from(WRONG_TYPES))
            return raw, f"added unknwon_key next to {shown}"
    holder[key] = draw(st.sampled_from(WRONG_TYPES))
    return raw, f"{shown}: {value!r} -> {holder[key]!r}"


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    """A folder with an existing (empty) results store: a plan must leave it byte for byte."""
    folder = tmp_path_factory.mktemp("fuzz-store")
    ResultsStore(folder / "results.sqlite").close()
    return folder


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cache")


def check(raw: dict, what: str, store_dir: Path, cache_dir: Path, empty: Path) -> None:
    """A valid plan or a one-line FacebenchError; the store folders unchanged."""
    before = fingerprint(store_dir)
    try:
        for store in (store_dir / "results.sqlite", empty / "results.sqlite"):
            plan_run(parse_config(raw, "fuzz.yaml"), RunOptions(store=str(store), cache_dir=str(cache_dir), device="cpu",
                                                                 quiet=True))
    except FacebenchError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, f"{what}: a message of several lines: {message!r}"
    except Exception as exc:  # noqa: BLE001 - the point: nothing but a FacebenchError
        pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
    assert fingerprint(store_dir) == before, f"{what}: the store changed"
    assert not any(empty.iterdir()), f"{what}: the plan wrote {sorted(p.name for p in empty.iterdir())}"


DEFAULT = resolved("default.yaml", keep_tasks=("classification", "segmentation"))
TEXT = resolved("text.yaml")
PAPER_TEXT = copy.deepcopy(dict(load_config(EMBEDDED.parents[0] / "paper" / "text.yaml").raw))
PAPER_TEXT["benchmarks"][0]["options"] = {
    **TEXT["benchmarks"][0]["options"], "max_length": 128, "pooling": "mean", "layer": -1, "truncation": "head+tail",
    "head_length": 32, "max_unknown_rate": 0.05, "eval_batch_size": 64}


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt refused and recorded."""
    attempts: list[Any] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_the_unmutated_configs_plan(store_dir, cache_dir, no_network):
    for raw in (DEFAULT, PAPER_TEXT):
        plan_run(parse_config(raw, "fuzz.yaml"), RunOptions(store=str(store_dir / "results.sqlite"),
                                                            cache_dir=str(cache_dir), device="cpu", quiet=True))
    assert no_network == []


def test_a_misspelt_include_is_one_line(tmp_path):
    text = (EMBEDDED / "default.yaml").read_text().replace("- segmentation.yaml", "- segmentaton.yaml")
    (tmp_path / "default.yaml").write_text(text)
    for name in ("classification.yaml", "text.yaml"):
        (tmp_path / name).write_text((EMBEDDED / name).read_text())
    with pytest.raises(FacebenchError, match=r"included config 'segmentaton.yaml' not found") as err:
        load_config(tmp_path / "default.yaml")
    assert "\n" not in str(err.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(DEFAULT))
def test_a_mutated_default_config_plans_or_fails_in_one_line(mutation, store_dir, cache_dir, tmp_path_factory):
    raw, what = mutation
    check(raw, what, store_dir, cache_dir, tmp_path_factory.mktemp("empty"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(PAPER_TEXT))
def test_a_mutated_text_config_plans_offline_or_fails_in_one_line(mutation, store_dir, cache_dir, tmp_path_factory,
                                                                   no_network):
    raw, what = mutation
    check(raw, what, store_dir, cache_dir, tmp_path_factory.mktemp("empty"))
    assert no_network == [], f"{what}: the plan tried the network"


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(TEXT))
def test_a_mutated_embedded_text_config_plans_or_fails_in_one_line(mutation, store_dir, cache_dir, tmp_path_factory):
    raw, what = mutation
    check(raw, what, store_dir, cache_dir, tmp_path_factory.mktemp("empty"))


# what the fuzz pass found (each was a traceback or a silently accepted value): (config, path, value, the key named)
FOUND = [
    ("default", ("benchmarks", 0, "seeds"), 1.5, "'seeds'"),                        # TypeError: not iterable
    ("default", ("benchmarks", 0, "diagnostics"), 7, "'diagnostics'"),              # TypeError: not iterable
    ("default", ("benchmarks", 0, "seeds", 0), 2**63, "'seeds'"),                   # overflows torch/SQLite at job time
    ("default", ("benchmarks", 0, "finetune", "lr"), math.nan, "finetune.lr"),      # NaN: accepted
    ("default", ("benchmarks", 0, "finetune", "lr"), True, "finetune.lr"),          # True: read as 1.0
    ("default", ("benchmarks", 0, "finetune", "momentum"), math.inf, "finetune.momentum"),
    ("default", ("benchmarks", 0, "options", "recalibrate_bn"), "abc", "recalibrate_bn"),  # any value: truthy
    ("default", ("benchmarks", 1, "finetune", "lr"), math.nan, "lr"),               # segmentation: NaN accepted
    ("default", ("benchmarks", 1, "finetune", "power"), math.inf, "power"),
    ("text", ("benchmarks", 0, "finetune", "lr"), math.inf, "finetune.lr"),         # text: inf accepted
    ("text", ("benchmarks", 0, "finetune", "warmup"), True, "finetune.warmup"),     # True: read as 1.0
]


@pytest.mark.parametrize("config,path,value,key", FOUND, ids=[f"{c}:{'.'.join(map(str, p))}={v!r}" for c, p, v, _ in FOUND])
def test_what_the_fuzz_found_is_refused_in_one_line_naming_key_and_value(config, path, value, key, store_dir, cache_dir,
                                                                          tmp_path, no_network):
    raw = copy.deepcopy(DEFAULT if config == "default" else PAPER_TEXT)
    parent(raw, path)[path[-1]] = value
    with pytest.raises(FacebenchError) as err:
        plan_run(parse_config(raw, "fuzz.yaml"), RunOptions(store=str(tmp_path / "s.sqlite"), cache_dir=str(cache_dir),
                                                             device="cpu", quiet=True))
    message = str(err.value)
    assert "\n" not in message and key in message and repr(value) in message, message
    assert not (tmp_path / "s.sqlite").exists()
